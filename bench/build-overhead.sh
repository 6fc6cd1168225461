#!/usr/bin/env bash
# Bootstrapper + engine overhead: a no-op `./build.sh Compile` against a no-op `dotnet build WebApp.sln`, both
# measured in this run. Prints the medians and their ratio; the goal is a ratio <= MAX_RATIO (default 1.5), and the
# script exits 1 when it is missed.
#   bash bench/build-overhead.sh            ROUNDS=3 RUNS=3 MAX_RATIO=1.5 bash bench/build-overhead.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-2}"
RUNS="${RUNS:-3}"
MAX_RATIO="${MAX_RATIO:-1.5}"
cd "$ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

elapsed_ms() {
  local start end
  start=$(date +%s%N)
  if ! "$@" >/dev/null 2>&1; then echo "bench: '$*' failed; run it alone to see why." >&2; exit 1; fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

seconds() { awk -v ms="$1" 'BEGIN { printf "%.2fs", ms / 1000 }'; }

# Each side is measured in a block after its own warm-up run, so every measured run is a no-op even when the build
# passes properties (e.g. -p:Version) that `dotnet build` does not. Rounds alternate the blocks to share the load.
build_sh=() dotnet_build=()
for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round/$ROUNDS…" >&2
  elapsed_ms ./build.sh Compile >/dev/null
  for ((i = 0; i < RUNS; i++)); do build_sh+=("$(elapsed_ms ./build.sh Compile)"); done
  elapsed_ms dotnet build WebApp.sln >/dev/null
  for ((i = 0; i < RUNS; i++)); do dotnet_build+=("$(elapsed_ms dotnet build WebApp.sln)"); done
done

a=$(printf '%s\n' "${build_sh[@]}" | median)
b=$(printf '%s\n' "${dotnet_build[@]}" | median)
ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
echo "no-op ./build.sh Compile       median $(seconds "$a")  (ms: ${build_sh[*]})"
echo "no-op dotnet build WebApp.sln  median $(seconds "$b")  (ms: ${dotnet_build[*]})"
if awk -v r="$ratio" -v max="$MAX_RATIO" 'BEGIN { exit !(r <= max) }'; then
  echo "ratio $ratio (goal <= $MAX_RATIO): met"
else
  echo "ratio $ratio (goal <= $MAX_RATIO): NOT met"
  exit 1
fi
