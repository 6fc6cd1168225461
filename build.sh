#!/usr/bin/env bash
# Bootstrapper: builds build/_build.csproj when its inputs changed, then runs it with the given arguments.
# ./build.sh [targets...] [--options]   (./build.sh --help lists them)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMP="$ROOT/.nuke/temp"
ARTIFACTS="$TEMP/artifacts"
BUILD_DLL="$ARTIFACTS/bin/_build/release/_build.dll"
STAMP="$TEMP/build.stamp"

export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if command -v dotnet >/dev/null 2>&1; then
  DOTNET="$(command -v dotnet)"
elif [[ -n "${DOTNET_ROOT:-}" && -x "$DOTNET_ROOT/dotnet" ]]; then
  DOTNET="$DOTNET_ROOT/dotnet"
else
  echo "build.sh: no dotnet on PATH and no \$DOTNET_ROOT/dotnet; install the .NET SDK from global.json." >&2
  exit 1
fi

# The projects _build is compiled from: build/ and everything it references, transitively.
build_inputs() {
  local queue=("$ROOT/build/_build.csproj") seen=" " project dir ref
  while ((${#queue[@]})); do
    project="${queue[0]}"; queue=("${queue[@]:1}")
    dir="$(cd "$(dirname "$project")" && pwd)"
    [[ "$seen" == *" $dir "* ]] && continue
    seen+="$dir "
    echo "$dir"
    while IFS= read -r ref; do
      [[ -n "$ref" ]] && queue+=("$dir/${ref//\\//}")
    done < <(grep -o '<ProjectReference[^>]*Include="[^"]*"' "$project" | sed 's/.*Include="\([^"]*\)"/\1/')
  done
}

# A hash of the names and contents of every input file, and of the dotnet path (another SDK rebuilds). The names are
# relative to the root, so a copy of the checkout elsewhere (a clone, another CI workspace) with a copy of the compiled
# build reuses it.
inputs_hash() {
  local dirs files
  mapfile -t dirs < <(build_inputs)
  mapfile -t files < <(
    find "${dirs[@]}" \( -name bin -o -name obj \) -prune -o -type f -print
    for f in Directory.Build.props Directory.Build.targets Directory.Packages.props global.json NuGet.config nuget.config; do
      [[ -f "$ROOT/$f" ]] && echo "$ROOT/$f"
    done
  )
  { echo "$DOTNET"; printf '%s\n' "${files[@]#"$ROOT"/}" | LC_ALL=C sort | tr '\n' '\0' | (cd "$ROOT" && xargs -0 sha256sum); } | sha256sum | cut -d' ' -f1
}

is_current() { [[ -f "$BUILD_DLL" && -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]]; }

mkdir -p "$TEMP"
HASH="$(inputs_hash)"
if ! is_current; then
  # One compile at a time when several builds start together (flock is absent on some systems; then just build).
  if command -v flock >/dev/null 2>&1; then exec 9>"$TEMP/build.lock"; flock 9; fi
  if ! is_current; then
    rm -f "$STAMP"
    if ! "$DOTNET" build "$ROOT/build/_build.csproj" --configuration Release --artifacts-path "$ARTIFACTS" \
        -nologo -verbosity:quiet -consoleLoggerParameters:NoSummary > "$TEMP/build.log" 2>&1; then
      cat "$TEMP/build.log" >&2
      echo "build.sh: compiling build/_build.csproj failed (log: $TEMP/build.log)." >&2
      exit 1
    fi
    echo "$HASH" > "$STAMP"
  fi
  if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
fi

# Tier 1 only after a second in which no new method was compiled: a build process lives for seconds, mostly waiting,
# and re-compiling its warm methods took 40% of its CPU (see build/_build.csproj). The runtime reads this setting
# from the environment only; the build takes it out again for the tools it starts (Build.Main).
if [[ -z "${DOTNET_TC_CallCountingDelayMs+set}" ]]; then
  export DOTNET_TC_CallCountingDelayMs=1000 BUILD_SH_TIER1_DELAY=1
fi

exec "$DOTNET" "$BUILD_DLL" "$@"
