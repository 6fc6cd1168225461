#!/usr/bin/env bash
# How long `./build.sh Test` takes: the wall time of the whole command and each test project's time, next to an
# earlier figure, with the ratio. It prints; it asserts nothing about speed (exit 1 only when a run fails).
#
#   bash bench/test-time.sh                  ./build.sh Test here, against the last run of this script
#                                            (artifacts/bench/test-time.tsv; the new figures replace it), else
#                                            against the full run's times committed in tests/test-times.tsv
#   bash bench/test-time.sh <git-rev>        ./build.sh Test in a clone at <git-rev> (before), then here (after):
#                                            one session on one machine, so the two figures compare
#   bash bench/test-time.sh [<git-rev>] -- --test-project Delivery.Versioning,Delivery.Core
#                                            a reduced pair: arguments after -- go to both ./build.sh Test runs
#
# A project's time is what the Test target measured around its `dotnet test` (artifacts/test-times.tsv); for a
# revision older than that file, the span its TRX file records (without the process start, so a little shorter).
# The CPU rows are what the lever is on 2 cores (the wall time cannot go below CPU work / cores): user+sys of
# ./build.sh Test and every process it waited for, and the CPU the engine (dockerd, containerd) used meanwhile for
# image builds, pushes and pulls; on a machine others use too, the engine figure includes their work. The machine
# rows count every process and the kernel (/proc/stat: containers, proxies, network softirqs included), and the floor
# is that busy time over the machine's cores: no scheduling of the same work can end sooner.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

rev=""
if [[ $# -gt 0 && "$1" != "--" ]]; then rev="$1"; shift; fi
if [[ $# -gt 0 && "$1" == "--" ]]; then shift; fi
extra=("$@")

work="$(mktemp -d "${TMPDIR:-/tmp}/test-time-XXXXXX")"
trap 'rm -rf "$work"' EXIT

note() { echo "bench: $*" >&2; }

# trx_seconds <file.trx>: finish - start of the TRX file's <Times> element.
trx_seconds() {
  local start finish
  start=$(grep -o '<Times [^>]*' "$1" | sed -nE 's/.* start="([^"]+)".*/\1/p')
  finish=$(grep -o '<Times [^>]*' "$1" | sed -nE 's/.* finish="([^"]+)".*/\1/p')
  [[ -n "$start" && -n "$finish" ]] || { echo 0; return; }
  awk -v s="$(date -d "$start" +%s.%N)" -v f="$(date -d "$finish" +%s.%N)" 'BEGIN { printf "%.1f\n", f - s }'
}

# engine_ticks: CPU clock ticks (user+sys) used so far by the running dockerd and containerd.
engine_ticks() {
  local pid fields total=0
  for pid in $(pgrep -x dockerd) $(pgrep -x containerd); do
    read -r -a fields <"/proc/$pid/stat" 2>/dev/null || continue
    total=$((total + fields[13] + fields[14]))
  done
  echo "$total"
}

# busy_ticks: clock ticks the whole machine spent not idle (all CPUs, /proc/stat).
busy_ticks() {
  local _cpu user nice system _idle _iowait irq softirq steal _rest
  read -r _cpu user nice system _idle _iowait irq softirq steal _rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}

# measure <dir> <out.tsv>: runs ./build.sh Test in <dir>; writes "name<TAB>seconds" lines, the wall time first.
# Returns the build's exit code, after writing what it could measure.
measure() {
  local dir="$1" out="$2" log cpu started start end engine_start engine_end busy_start busy_end code=0
  log="$work/$(basename "$2" .tsv).log"
  cpu="$work/$(basename "$2" .tsv).cpu"
  started="$work/$(basename "$2" .tsv).started"
  touch "$started"
  note "./build.sh Test ${extra[*]} in $dir (log: $log)"
  engine_start=$(engine_ticks)
  busy_start=$(busy_ticks)
  start=$(date +%s%N)
  { TIMEFORMAT='%U %S'; time { (cd "$dir" && ./build.sh Test "${extra[@]}") >"$log" 2>&1 || code=$?; }; } 2>"$cpu"
  end=$(date +%s%N)
  engine_end=$(engine_ticks)
  busy_end=$(busy_ticks)
  {
    awk -v ms="$(((end - start) / 1000000))" 'BEGIN { printf "./build.sh Test (wall)\t%.1f\n", ms / 1000 }'
    awk '{ printf "./build.sh Test (cpu, user+sys)\t%.1f\n", $1 + $2 }' "$cpu"
    awk -v t="$((engine_end - engine_start))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "engine cpu meanwhile\t%.1f\n", t / hz }'
    awk -v t="$((busy_end - busy_start))" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" \
      'BEGIN { printf "machine busy cpu meanwhile\t%.1f\nfloor: busy cpu / %d cores\t%.1f\n", t / hz, cores, t / hz / cores }'
  } >"$out"
  if [[ -f "$dir/artifacts/test-times.tsv" && "$dir/artifacts/test-times.tsv" -nt "$started" ]]; then
    awk -F'\t' 'NR > 1 { name = ($1 == "total") ? "test projects (wall)" : $1; print name "\t" $2 }' "$dir/artifacts/test-times.tsv" >>"$out"
  else
    local trx
    for trx in "$dir"/artifacts/test-results/*.trx; do
      [[ -f "$trx" ]] || continue
      printf '%s\t%s\n' "$(basename "$trx" .trx)" "$(trx_seconds "$trx")" >>"$out"
    done
  fi
  if [[ $code -ne 0 ]]; then
    note "./build.sh Test failed in $dir (exit $code); last lines:"
    tail -5 "$log" >&2
  fi
  grep -E '^Tests: ' "$log" | tail -1 | sed 's/^/  /' >&2 || true
  return $code
}

# compare <before.tsv> <after.tsv> <before label> <after label>
compare() {
  awk -F'\t' -v bl="$3" -v al="$4" '
    FILENAME == ARGV[1] { before[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } next }
    { after[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
    END {
      printf "%-34s %12s %12s %8s\n", "", bl, al, "ratio"
      for (i = 1; i <= n; i++) {
        k = order[i]; b = (k in before) ? before[k] : ""; a = (k in after) ? after[k] : ""
        r = (b != "" && a != "" && b > 0) ? sprintf("%.2f", a / b) : "-"
        printf "%-34s %12s %12s %8s\n", k, (b == "" ? "-" : b " s"), (a == "" ? "-" : a " s"), r
      }
    }' "$1" "$2"
}

failed=0
if [[ -n "$rev" ]]; then
  commit=$(git -C "$ROOT" rev-parse --verify "$rev^{commit}")
  git clone -q "$ROOT" "$work/before"
  git -C "$work/before" checkout -q "$commit"
  measure "$work/before" "$work/before.tsv" || failed=1
  measure "$ROOT" "$work/after.tsv" || failed=1
  compare "$work/before.tsv" "$work/after.tsv" "${rev:0:12}" "work tree"
else
  last="$ROOT/artifacts/bench/test-time.tsv"
  measure "$ROOT" "$work/after.tsv" || failed=1
  committed="$ROOT/tests/test-times.tsv"
  if [[ -f "$last" ]]; then
    compare "$last" "$work/after.tsv" "last run" "this run"
  elif [[ -f "$committed" ]]; then
    note "no earlier run in ${last#"$ROOT"/}; comparing with the full run committed in ${committed#"$ROOT"/}"
    awk -F'\t' 'NR > 1 { name = ($1 == "total") ? "test projects (wall)" : $1; print name "\t" $2 }' "$committed" >"$work/committed.tsv"
    compare "$work/committed.tsv" "$work/after.tsv" "committed" "this run"
  else
    note "no earlier run in ${last#"$ROOT"/}; this run's figures:"
    compare /dev/null "$work/after.tsv" "" "this run"
  fi
  mkdir -p "$(dirname "$last")"
  cp "$work/after.tsv" "$last"
fi
exit $failed
