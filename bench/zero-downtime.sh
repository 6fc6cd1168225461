#!/usr/bin/env bash
# Failed requests while staging (:8081) is redeployed under load; the goal is none (0 non-2xx/3xx, 0 socket errors).
# Two versions (VERSION_BASE-bench.1 and .2, built with --version-override in a temporary clone and pushed as
# $IMAGE_NAME) are built first, so the load window holds the deploys themselves: `wrk -c20 -d15s` runs against
# 127.0.0.1:8081 and, from ~3 s in, staging is switched to .1 and then to .2 (real blue/green switches: each is a
# new image). Staging is then restored with `./build.sh DeployStaging` in the work tree. Exits 1 when a goal is missed.
#   bash bench/zero-downtime.sh        CONNECTIONS=20 DURATION=15 DELAY=3 bash bench/zero-downtime.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONNECTIONS="${CONNECTIONS:-20}"
DURATION="${DURATION:-15}"
DELAY="${DELAY:-3}"
VERSION_BASE="${VERSION_BASE:-0.0.1}"
((CONNECTIONS <= 100 && DURATION <= 60)) || { note "load is bounded: CONNECTIONS <= 100, DURATION <= 60"; exit 2; }

WORK="$(mktemp -d /tmp/bench-zero-downtime.XXXXXX)"
CLONE="$WORK/repo"
TOUCHED=""
WRK_PID=""
cleanup() {
  local rc=$?
  [[ -z "$WRK_PID" ]] || kill "$WRK_PID" 2>/dev/null || true
  if [[ -n "$TOUCHED" ]]; then restore_staging "$CLONE" "$WORK/restore.log" || rc=1; fi
  if [[ -n "${KEEP:-}" ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT

if ! staging_ready; then
  note "staging does not answer $STAGING_URL/readyz; ./build.sh DeployStaging in $ROOT…"
  build_in "$ROOT" "$WORK/initial.log" DeployStaging --lock-wait "$LOCK_WAIT"
fi
remember_staging

note "cloning $ROOT into $CLONE ($BENCH_SOURCE) and building two versions…"
bench_clone "$CLONE"
for k in 1 2; do
  build_in "$CLONE" "$WORK/push$k.log" Push --image-name "$IMAGE_NAME" --version-override "$VERSION_BASE-bench.$k"
  cp "$CLONE/artifacts/image.json" "$WORK/image$k.json"
done

note "wrk -c$CONNECTIONS -d${DURATION}s on $STAGING_URL/, redeploying staging twice from ${DELAY} s in…"
wrk_start=$(now_ms)
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$STAGING_URL/" >"$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
sleep "$DELAY"
TOUCHED=1
deploys=() in_window=0
for k in 1 2; do
  cp "$WORK/image$k.json" "$CLONE/artifacts/image.json"
  build_in "$CLONE" "$WORK/deploy$k.log" DeployStaging --skip --state-directory "$HOST_STATE" --lock-wait "$LOCK_WAIT"
  done_at=$(($(now_ms) - wrk_start))
  ((done_at < DURATION * 1000)) && in_window=$((in_window + 1))
  deploys+=("$(deploy_line "$WORK/deploy$k.log") [done at $(seconds "$done_at") s of the load]")
done
wait "$WRK_PID" || { note "wrk failed:"; cat "$WORK/wrk.txt" >&2; exit 1; }
WRK_PID=""

report="$(cat "$WORK/wrk.txt")"
requests="$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' <<<"$report")"
[[ -n "$requests" ]] || { note "not a wrk report:"; echo "$report" >&2; exit 1; }
rps="$(sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p' <<<"$report")"
non2xx="$(sed -nE 's/.*Non-2xx or 3xx responses: *([0-9]+).*/\1/p' <<<"$report")"
read -r connect read_ write timeout < <(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' <<<"$report") || true
non2xx="${non2xx:-0}" connect="${connect:-0}" read_="${read_:-0}" write="${write:-0}" timeout="${timeout:-0}"
socket=$((connect + read_ + write + timeout))
latency() { awk -v p="$1" '$1 == p { print $2 }' <<<"$report"; }

for k in 1 2; do echo "deploy_$k: ${deploys[k - 1]}"; done
echo "switches_during_load: $in_window/2"
echo "requests: $requests"
echo "requests_per_s: $rps"
echo "non_2xx_3xx: $non2xx"
echo "socket_errors: $socket (connect $connect, read $read_, write $write, timeout $timeout)"
echo "latency: p50 $(latency 50%), p90 $(latency 90%), p99 $(latency 99%), max $(awk '$1 == "Latency" { print $4 }' <<<"$report")"
goal "0 non-2xx/3xx and 0 socket errors across 2 switches under load" \
  "$([[ "$non2xx" == 0 && "$socket" == 0 && "$in_window" == 2 ]] && echo 1 || echo 0)"
((GOALS_FAILED == 0)) || exit 1
