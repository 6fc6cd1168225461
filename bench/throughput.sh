#!/usr/bin/env bash
# Throughput of the web app's home page, measured in one run against the Release build (published once, Production
# environment, on 127.0.0.1). Two instances of that one build run side by side: metrics on (the default) and metrics
# off (Metrics__Enabled=false). With wrk -t2 -c20, ROUNDS rounds of DURATION seconds each measure, interleaved:
#   /healthz and / on the metrics-on instance   -> their ratio, goal / ÷ /healthz >= 0.8
#   / on the metrics-off instance               -> metrics on ÷ off, goal >= 0.95
# and the p99 latency of /. Rates and latencies are medians over the rounds; each ratio is the median of the
# per-round ratios (runs next to each other in time), which drifts less with other load on the machine. The server's
# CPU time per request (from /proc) is printed too: it depends far less on that load. Exits 1 when a goal is missed.
# The load stays on loopback and is bounded (DURATION <= 30, CONNECTIONS <= 100); on a shared machine run it idle.
#   bash bench/throughput.sh            ROUNDS=3 DURATION=8 CONNECTIONS=20 bash bench/throughput.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8}"
CONNECTIONS="${CONNECTIONS:-20}"
WARMUP="${WARMUP:-3}"
((DURATION <= 30 && CONNECTIONS <= 100 && ROUNDS <= 5)) || { note "load is bounded: DURATION <= 30, CONNECTIONS <= 100, ROUNDS <= 5"; exit 2; }
command -v wrk >/dev/null || { note "wrk is required (Debian package 'wrk')"; exit 2; }

WORK="$(mktemp -d /tmp/bench-throughput.XXXXXX)"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "${KEEP:-}" ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

note "publishing src/WebApp (Release) to $WORK/publish…"
if ! dotnet publish "$ROOT/src/WebApp" -c Release -o "$WORK/publish" >"$WORK/publish.log" 2>&1; then
  note "dotnet publish failed:"; tail -25 "$WORK/publish.log" >&2; exit 1
fi

# start <name> <port> [VAR=value...]: the published app in the background, from its own folder (content root).
start() {
  local name="$1" port="$2"; shift 2
  (cd "$WORK/publish" && exec env ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Logging__LogLevel__Default=Warning "$@" dotnet WebApp.dll) >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  local deadline=$((SECONDS + 60))
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do
    ((SECONDS < deadline)) || { note "$name did not become ready:"; cat "$WORK/$name.log" >&2; exit 1; }
    sleep 0.2
  done
}
ON_PORT="$(free_port)"
start metrics-on "$ON_PORT"
metrics_on_pid=${PIDS[-1]}
OFF_PORT="$(free_port)"
start metrics-off "$OFF_PORT" Metrics__Enabled=false
metrics_off_pid=${PIDS[-1]}
ON="http://127.0.0.1:$ON_PORT" OFF="http://127.0.0.1:$OFF_PORT"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$OFF/metrics")" == 404 ]] || { note "the metrics-off instance still serves /metrics"; exit 1; }
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$ON/metrics")" == 200 ]] || { note "the metrics-on instance serves no /metrics"; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run <label> <pid> <url> <seconds>: one wrk run; appends "rps p99_ms non2xx errors cpu_us_per_request" to $WORK/<label>.
run() {
  local label="$1" pid="$2" url="$3" seconds="$4" out before after
  before="$(cpu_ticks "$pid")"
  out="$(wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" --latency "$url")" || { note "wrk failed on $url"; exit 1; }
  after="$(cpu_ticks "$pid")"
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { requests = $1 }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
                  p99 = unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : v }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { errors = $4 + $6 + $8 + $10 }
    END { printf "%s %.2f %d %d %.1f\n", rps, p99, non2xx, errors, ticks / hz * 1e6 / requests }' <<<"$out" >>"$WORK/$label"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() { awk -v c="$2" '{ print $c }' "$WORK/$1"; }

note "warming up both instances (${WARMUP} s each)…"
run warmup "$metrics_on_pid" "$ON/" "$WARMUP"; run warmup "$metrics_on_pid" "$ON/healthz" "$WARMUP"
run warmup "$metrics_off_pid" "$OFF/" "$WARMUP"
for ((round = 1; round <= ROUNDS; round++)); do
  note "round $round/$ROUNDS: wrk -t2 -c$CONNECTIONS -d${DURATION}s on /healthz, / (metrics on), / (metrics off)…"
  if ((round % 2)); then
    run healthz "$metrics_on_pid" "$ON/healthz" "$DURATION"; run home-on "$metrics_on_pid" "$ON/" "$DURATION"
    run home-off "$metrics_off_pid" "$OFF/" "$DURATION"
  else
    run home-off "$metrics_off_pid" "$OFF/" "$DURATION"; run home-on "$metrics_on_pid" "$ON/" "$DURATION"
    run healthz "$metrics_on_pid" "$ON/healthz" "$DURATION"
  fi
done

healthz_rps="$(column_of healthz 1 | median)"
home_rps="$(column_of home-on 1 | median)"
off_rps="$(column_of home-off 1 | median)"
home_p99="$(column_of home-on 2 | median)"
off_p99="$(column_of home-off 2 | median)"
failures="$(cat "$WORK"/healthz "$WORK"/home-on "$WORK"/home-off | awk '{ n += $3 + $4 } END { print n + 0 }')"
# per_round_ratio <a> <b>: the median over rounds of a's rate ÷ b's rate in the same round.
per_round_ratio() { paste -d' ' <(column_of "$1" 1) <(column_of "$2" 1) | awk '{ print $1 / $2 }' | median; }
fmt() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
home_vs_healthz="$(fmt "$(per_round_ratio home-on healthz)")"
on_vs_off="$(fmt "$(per_round_ratio home-on home-off)")"
healthz_cpu="$(column_of healthz 5 | median)"
home_cpu="$(column_of home-on 5 | median)"
off_cpu="$(column_of home-off 5 | median)"

echo "runs: wrk -t2 -c$CONNECTIONS, $ROUNDS rounds of ${DURATION} s, medians; Release build, Production, $(nproc) cores"
echo "per_run_req_per_s: /healthz [$(column_of healthz 1 | paste -sd' ')] / on [$(column_of home-on 1 | paste -sd' ')] / off [$(column_of home-off 1 | paste -sd' ')]"
echo "healthz_req_per_s: $healthz_rps"
echo "home_req_per_s: $home_rps"
echo "home_vs_healthz: $home_vs_healthz"
echo "home_metrics_off_req_per_s: $off_rps"
echo "metrics_on_vs_off: $on_vs_off"
echo "home_p99_ms: $home_p99 (metrics off: $off_p99)"
echo "server_cpu_us_per_request: /healthz $healthz_cpu, / $home_cpu, / metrics off $off_cpu"
cpu_home_vs_healthz="$(fmt "$(awk -v a="$healthz_cpu" -v b="$home_cpu" 'BEGIN { print a / b }')")"
cpu_on_vs_off="$(fmt "$(awk -v a="$off_cpu" -v b="$home_cpu" 'BEGIN { print a / b }')")"
echo "cpu_bound_ratios: / vs /healthz $cpu_home_vs_healthz, metrics on vs off $cpu_on_vs_off (inverse CPU per request)"
echo "non_2xx_or_socket_errors: $failures"
goal "/ ÷ /healthz >= 0.8 ($home_vs_healthz)" "$(awk -v r="$home_vs_healthz" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')"
goal "/ metrics on ÷ off >= 0.95 ($on_vs_off)" "$(awk -v r="$on_vs_off" 'BEGIN { print (r >= 0.95) ? 1 : 0 }')"
goal "no failed requests ($failures)" "$([[ "$failures" == 0 ]] && echo 1 || echo 0)"
((GOALS_FAILED == 0)) || exit 1
