#!/usr/bin/env bash
# The paired bake judge (src/Delivery.Hosts/Scripts/judge.sh) against releases with a known injected slowdown.
# Two loopback-only busybox httpd servers stand in for the previous and the new release: a CGI page that sleeps
# BASE_MS x factor ms (the previous release: factor 1). Each run does what the deploy's bake does: rounds of paired
# probes (judge_round: 20 pairs from 2 curl streams, random order within each pair), a look after each round, and a
# stop at the first confident verdict, after BUDGET pairs or after WINDOW seconds (the staging bake's window). The
# judge's values come from the same rendered header as a deploy's (PairedJudge, through bench/judge-header.cs).
# Prints, per factor: runs, verdicts, the share that failed, median pairs and seconds to a verdict, and the measured
# latency ratio. Goals: identical releases fail in <= 5 % of runs; 1.2x slower ones in >= 90 %; a good release
# reaches its verdict in <= 10 s. Exits 1 when a goal is missed.
#   bash bench/bake-judge.sh        RUNS=20 BUDGET=1000 WINDOW=30 BASE_MS=10 bash bench/bake-judge.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-20}"
FACTORS="${FACTORS:-1.0 1.2 2 5}"
BUDGET="${BUDGET:-1000}"
WINDOW="${WINDOW:-30}"
BASE_MS="${BASE_MS:-10}"
((RUNS >= 1 && RUNS <= 50 && BUDGET >= 20 && BUDGET <= 2000 && WINDOW >= 1 && WINDOW <= 60)) ||
  { echo "bench: load is bounded: RUNS 1..50, BUDGET 20..2000, WINDOW 1..60 s" >&2; exit 2; }
command -v busybox >/dev/null || { echo "bench: busybox is required (apt-get install busybox-static)" >&2; exit 2; }
# The judge's variables, rendered as a deploy's plan renders them.
header=$(dotnet run "$ROOT/bench/judge-header.cs" -- "${CONFIDENCE:-0.95}" "${TOLERANCE:-0.1}" "$BUDGET" "${MIN_PAIRS:-20}") ||
  { echo "bench: could not render the judge's header: $header" >&2; exit 2; }
eval "$header"
# shellcheck disable=SC2034 # read by judge.sh
curl=curl
# shellcheck disable=SC2034 # read by judge.sh
probe_paths=(/cgi-bin/p)
# shellcheck source=src/Delivery.Hosts/Scripts/judge.sh
source "$ROOT/src/Delivery.Hosts/Scripts/judge.sh"

WORK="$(mktemp -d /tmp/bench-bake-judge.XXXXXX)"
PIDS=()
# shellcheck disable=SC2317 # run by the EXIT trap, which shellcheck 0.9 does not follow
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { local p; while :; do p=$((20000 + RANDOM % 20000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }

# serve <name> <sleep ms>: a busybox httpd on a free loopback port (set in $port) whose /cgi-bin/p sleeps that long
# and whose /cgi-bin/z answers at once.
serve() {
  local dir="$WORK/$1"
  mkdir -p "$dir/cgi-bin"
  printf '#!/bin/sh\nsleep %s\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n' \
    "$(awk -v ms="$2" 'BEGIN { printf "%.4f", ms / 1000 }')" >"$dir/cgi-bin/p"
  printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n' >"$dir/cgi-bin/z"
  chmod +x "$dir/cgi-bin/p" "$dir/cgi-bin/z"
  port=$(free_port)
  busybox httpd -f -p "127.0.0.1:$port" -h "$dir" </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  local waited=0
  until curl -fs -o /dev/null "http://127.0.0.1:$port/cgi-bin/p"; do
    waited=$((waited + 1)); [ "$waited" -le 50 ] || { echo "bench: httpd on $port did not answer" >&2; exit 1; }; sleep 0.1
  done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# one_run <old port> <new port>: prints "VERDICT PAIRS MS OLD_MEDIAN NEW_MEDIAN".
one_run() {
  local pairs="$WORK/pairs" started sent=0 verdict rest final=0
  : >"$pairs"
  started=$(now_ms)
  while :; do
    judge_round "$1" "$2" "$pairs"
    sent=$(wc -l <"$pairs")
    if [ "$sent" -ge "$BUDGET" ] || [ $(($(now_ms) - started)) -ge $((WINDOW * 1000)) ]; then final=1; fi
    read -r verdict rest < <(judge_pairs "$pairs" "$final")
    [ "$verdict" = wait ] || break
  done
  read -r _ _ _ _ _ old_ms new_ms _ <<<"$rest"
  echo "$verdict $sent $(($(now_ms) - started)) $old_ms $new_ms"
}

serve old "$BASE_MS"
old_port=$port
# A CGI page costs a fork and two execs besides its sleep; a release "f x slower" answers in f x the previous
# release's whole time, so its sleep also covers (f - 1) x that overhead, measured here as a median.
overhead_ms=$(for ((i = 0; i < 31; i++)); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$old_port/cgi-bin/z"; done |
  LC_ALL=C sort -g | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] * 1000 }')
# shellcheck disable=SC2154 # judge_* are set by the rendered header
echo "judge: confidence $judge_confidence (alpha $judge_alpha per look), tolerated shift $judge_tolerance, min $judge_min_pairs pairs, a look every $judge_step pairs ($judge_streams streams) up to $BUDGET pairs or $WINDOW s; base ${BASE_MS} ms + ${overhead_ms} ms CGI overhead; $RUNS runs per factor; load average $(cut -d' ' -f1 /proc/loadavg)"
printf '%-7s %5s %5s %5s %5s %5s %6s %10s %10s %10s\n' factor runs pass fail none undec 'fail%' 'pairs(med)' 'secs(med)' 'ratio(med)'
declare -A FAIL_PCT SECS_MED
for factor in $FACTORS; do
  serve "new-$factor" "$(awk -v b="$BASE_MS" -v f="$factor" -v o="$overhead_ms" 'BEGIN { print f * b + (f - 1) * o }')"
  new_port=$port
  : >"$WORK/runs.$factor"
  for ((r = 0; r < RUNS; r++)); do one_run "$old_port" "$new_port" >>"$WORK/runs.$factor"; done
  read -r runs pass fail none undec pairs_med secs_med ratio_med < <(awk '
    function med(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { n++; p[n] = $2; s[n] = $3 / 1000; q[n] = $4 > 0 ? $5 / $4 : 0
      if ($1 == "pass") pass++; else if ($1 == "none") none++; else if ($1 == "inconclusive") undec++; else fail++ }
    END { printf "%d %d %d %d %d %d %.1f %.2f\n", n, pass, fail, none, undec, med(p, n), med(s, n), med(q, n) }' "$WORK/runs.$factor")
  pct=$(awk -v f="$fail" -v n="$runs" 'BEGIN { printf "%.0f", 100 * f / n }')
  FAIL_PCT[$factor]=$pct SECS_MED[$factor]=$secs_med
  printf '%-7s %5d %5d %5d %5d %5d %5s%% %10d %10s %9sx\n' "${factor}x" "$runs" "$pass" "$fail" "$none" "$undec" "$pct" "$pairs_med" "$secs_med" "$ratio_med"
done

failed=0
goal() { if [ "$2" = 1 ]; then echo "goal: $1 -> PASS"; else echo "goal: $1 -> FAIL"; failed=$((failed + 1)); fi; }
if [ -n "${FAIL_PCT[1.0]:-}" ]; then
  goal "false alarms on an identical release ${FAIL_PCT[1.0]}% <= 5%" "$(awk -v p="${FAIL_PCT[1.0]}" 'BEGIN { print (p <= 5) }')"
  goal "an identical (good) release reaches its verdict in ${SECS_MED[1.0]} s (median) <= 10 s" "$(awk -v s="${SECS_MED[1.0]}" 'BEGIN { print (s <= 10) }')"
fi
if [ -n "${FAIL_PCT[1.2]:-}" ]; then
  goal "detection of a 1.2x slowdown ${FAIL_PCT[1.2]}% >= 90%" "$(awk -v p="${FAIL_PCT[1.2]}" 'BEGIN { print (p >= 90) }')"
fi
exit $((failed > 0))
