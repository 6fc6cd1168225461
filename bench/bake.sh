#!/usr/bin/env bash
# Automatic rollback of a bad release on staging (:8081) under load. Two versions of the real app are built in a
# temporary clone and pushed as $IMAGE_NAME: VERSION_BASE-bake.1 (good) and VERSION_BASE-bake.2, whose home page
# throws on FAIL_PERCENT % of requests (one line changed in WebAppHost.cs: a release that is ready but serves 500s).
# Staging gets .1 without a bake, then `wrk -c20` runs on / and, from DELAY s in, .2 is deployed with a bake
# sampled every INTERVAL s. Prints the time from the switch to the automatic rollback, which should be close to one
# sampling interval (goal <= 2 x INTERVAL), and the 5xx responses wrk saw (the only failures allowed: no socket
# errors). Staging is then restored with `./build.sh DeployStaging` in the work tree, or torn down if it
# did not run before. Exits 1 when a goal is missed.
#   bash bench/bake.sh        INTERVAL=2 FAIL_PERCENT=30 CONNECTIONS=20 DURATION=20 DELAY=3 bash bench/bake.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
INTERVAL="${INTERVAL:-2}"
FAIL_PERCENT="${FAIL_PERCENT:-30}"
CONNECTIONS="${CONNECTIONS:-20}"
DURATION="${DURATION:-20}"
DELAY="${DELAY:-3}"
VERSION_BASE="${VERSION_BASE:-0.0.1}"
((CONNECTIONS <= 100 && DURATION <= 60)) || { note "load is bounded: CONNECTIONS <= 100, DURATION <= 60"; exit 2; }

WORK="$(mktemp -d /tmp/bench-bake.XXXXXX)"
CLONE="$WORK/repo"
TOUCHED=""
WAS_RUNNING=""
WRK_PID=""
cleanup() {
  local rc=$?
  [[ -z "$WRK_PID" ]] || kill "$WRK_PID" 2>/dev/null || true
  if [[ -n "$TOUCHED" && -n "$WAS_RUNNING" ]]; then restore_staging "$CLONE" "$WORK/restore.log" || rc=1; fi
  if [[ -n "$TOUCHED" && -z "$WAS_RUNNING" ]]; then
    note "staging did not run before the bench: tearing it down"
    build_in "$CLONE" "$WORK/teardown.log" Teardown --environment staging --yes --state-directory "$HOST_STATE" || rc=1
  fi
  if [[ -n "${KEEP:-}" ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT

# Staging is put back as it was: restored to the work tree's build when it ran, torn down when it did not.
WAS_RUNNING=""
if staging_ready; then WAS_RUNNING=1; remember_staging; fi
note "cloning $ROOT into $CLONE ($BENCH_SOURCE) and building a good and a bad version…"
bench_clone "$CLONE"
build_in "$CLONE" "$WORK/push1.log" Push --image-name "$IMAGE_NAME" --version-override "$VERSION_BASE-bake.1"
cp "$CLONE/artifacts/image.json" "$WORK/good.json"
# The fault sits in the pipeline just before the output cache (a throwing page would be rendered, and fail, only
# on cache misses): one changed line of WebAppHost.cs.
host="$CLONE/src/WebApp/Hosting/WebAppHost.cs"
sed -i "0,/app.UseOutputCache();/s//app.Use(async (c, n) => { if (c.Request.Path == \"\/\" \&\& Random.Shared.Next(100) < $FAIL_PERCENT) throw new InvalidOperationException(\"bench: a bad release\"); await n(c); }); app.UseOutputCache();/" "$host"
grep -q 'bench: a bad release' "$host" || { note "could not make the home page fail"; exit 1; }
# Built and pushed without SmokeTest, which would catch the failing home page.
build_in "$CLONE" "$WORK/build2.log" DockerBuild --image-name "$IMAGE_NAME" --version-override "$VERSION_BASE-bake.2"
build_in "$CLONE" "$WORK/push2.log" Push --skip --image-name "$IMAGE_NAME" --version-override "$VERSION_BASE-bake.2"
cp "$CLONE/artifacts/image.json" "$WORK/bad.json"

TOUCHED=1
cp "$WORK/good.json" "$CLONE/artifacts/image.json"
build_in "$CLONE" "$WORK/deploy1.log" DeployStaging --skip --bake-seconds 0 --state-directory "$HOST_STATE" --lock-wait "$LOCK_WAIT"

note "wrk -c$CONNECTIONS -d${DURATION}s on $STAGING_URL/, deploying the bad release with a bake (interval $INTERVAL s) from ${DELAY} s in…"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "$STAGING_URL/" >"$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
sleep "$DELAY"
cp "$WORK/bad.json" "$CLONE/artifacts/image.json"
deploy_rc=0
(cd "$CLONE" && ./build.sh DeployStaging --skip --bake-seconds 30 --bake-interval "$INTERVAL" --state-directory "$HOST_STATE" \
  --lock-wait "$LOCK_WAIT") >"$WORK/deploy2.log" 2>&1 || deploy_rc=$?
wait "$WRK_PID" || { note "wrk failed:"; cat "$WORK/wrk.txt" >&2; exit 1; }
WRK_PID=""

rollback_s=$(sed -nE 's/.*staging serves .* again, ([0-9.]+) s after the switch.*/\1/p' "$WORK/deploy2.log" | tail -1)
reason=$(grep -m1 -oE 'failed the bake on staging: .*' "$WORK/deploy2.log" || true)
requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$WORK/wrk.txt"); non2xx=${non2xx:-0}
socket=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$WORK/wrk.txt"); socket=${socket:-0}

bad_version=$(jq -r .version "$WORK/bad.json")
[[ "$bad_version" == "$VERSION_BASE-bake.2" ]] || { note "the bad release was not built (artifacts/image.json names $bad_version)"; exit 1; }
echo "bad release: $bad_version ($FAIL_PERCENT % of / throws), bake interval $INTERVAL s"
echo "deploy exit code: $deploy_rc; ${reason:-no bake failure reported}"
echo "time from switch to automatic rollback: ${rollback_s:-n/a} s"
echo "users' 5xx under wrk -c$CONNECTIONS (${DURATION} s, $requests requests): $non2xx; socket errors: $socket"
goal "the bad release is rolled back by its bake (non-zero exit)" "$([[ $deploy_rc != 0 && -n "$rollback_s" ]] && echo 1 || echo 0)"
goal "rollback within 2 x the interval (${rollback_s:-n/a} s <= $((2 * INTERVAL)) s)" \
  "$(awk -v r="${rollback_s:-999}" -v i="$INTERVAL" 'BEGIN { print (r <= 2 * i) ? 1 : 0 }')"
goal "users saw only 5xx, no socket errors ($socket)" "$([[ $socket == 0 ]] && echo 1 || echo 0)"
((GOALS_FAILED == 0))
