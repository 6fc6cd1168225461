# Helpers shared by the bench/*.sh scripts (sourced, not run). They build in a temporary clone of this repository
# so the real work tree, its artifacts/ and the real `webapp` tags stay untouched; the clone pushes as IMAGE_NAME.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE_NAME="${IMAGE_NAME:-bench-webapp}"
# The deploy host's state (staging's :8081 is one per machine), shared with the real work tree.
HOST_STATE="${HOST_STATE:-$ROOT/.state}"
LOCK_WAIT="${LOCK_WAIT:-120}"
# worktree: the clone also gets the work tree's uncommitted changes (what ./build.sh in $ROOT builds); head: HEAD only.
BENCH_SOURCE="${BENCH_SOURCE:-worktree}"
STAGING_URL="http://127.0.0.1:8081"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

note() { echo "bench: $*" >&2; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

seconds() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# goal <description> <0|1 met> ; records a failure for the exit code.
GOALS_FAILED=0
goal() {
  if [[ "$2" == 1 ]]; then echo "goal: $1 -> PASS"; else echo "goal: $1 -> FAIL"; GOALS_FAILED=$((GOALS_FAILED + 1)); fi
}

# bench_clone <dest>: a full-history clone (versions come from git tags and heights) plus, by default, the work
# tree's uncommitted changes: modified and untracked files that .gitignore does not exclude, and deletions.
bench_clone() {
  local dest="$1"
  git clone -q "$ROOT" "$dest"
  if [[ "$BENCH_SOURCE" == worktree ]]; then
    (cd "$ROOT" && git ls-files -z -m -o --exclude-standard) | (cd "$ROOT" && tar --null -T - -cf - 2>/dev/null) | tar -C "$dest" -xf -
    (cd "$ROOT" && git ls-files -z -d) | (cd "$dest" && xargs -0 -r rm -f --)
  fi
}

# build_in <dir> <log> <build.sh arguments...>: runs ./build.sh there, output to <log>; stops the bench on failure.
build_in() {
  local dir="$1" log="$2"; shift 2
  if ! (cd "$dir" && ./build.sh "$@") >"$log" 2>&1; then
    note "'./build.sh $*' in $dir failed; last lines of $log:"
    tail -25 "$log" >&2
    return 1
  fi
}

# target_seconds <log> <Target>: the Duration column of the summary table (0.4s or 1m03s), in seconds.
target_seconds() {
  awk -F'│' -v t="$2" '
    { name = $2; gsub(/ /, "", name) }
    name == t { d = $4; gsub(/ /, "", d)
      if (d ~ /m/) { split(d, p, "m"); sub(/s/, "", p[2]); printf "%.1f\n", p[1] * 60 + p[2] }
      else { sub(/s/, "", d); printf "%.1f\n", d } }' "$1" | tail -1
}

# deploy_line <log>: the deploy's own line, "staging: A -> B on :8081 in 2.0 s (preflight 34 ms, ..., switch 205 ms, ...)".
deploy_line() { grep -E '^staging: .* on :8081 in [0-9.]+ s' "$1" | tail -1; }
deploy_total_s() { sed -nE 's/.* in ([0-9.]+) s.*/\1/p' <<<"$1"; }
deploy_switch_ms() { sed -nE 's/.*[(,] ?switch ([0-9]+) ms.*/\1/p' <<<"$1"; }

staging_ready() { curl -fs -o /dev/null --max-time 5 "$STAGING_URL/readyz"; }

# Staging's current release (from the host state), for the restore fallback.
# Empty when staging was never deployed from this work tree (sed exits 2 on a missing file, which set -e would end on).
staging_field() { sed -n "s/^$1=//p" "$HOST_STATE/host/envs/staging/current" 2>/dev/null || true; }

# restore_staging <clone>: back to the normal build of the work tree (./build.sh DeployStaging in $ROOT). If that
# build fails (the tree is shared and may be mid-edit), redeploys the release staging ran before the bench instead,
# from <clone> with --skip, so staging is never left on a bench image. Needs PRE_* set by remember_staging.
remember_staging() {
  PRE_VERSION="$(staging_field version)" PRE_DIGEST="$(staging_field digest)" PRE_IMAGE="$(staging_field image)"
  PRE_COMMIT="$(staging_field commit)"
}
restore_staging() {
  local clone="$1" log="$2"
  note "restoring staging: ./build.sh DeployStaging in $ROOT…"
  if build_in "$ROOT" "$log" DeployStaging --lock-wait "$LOCK_WAIT"; then
    echo "restored: staging on the normal build ($(staging_field version), $(staging_field digest | cut -c1-19))"
    return 0
  fi
  if [[ -n "${PRE_DIGEST:-}" && -d "$clone" ]]; then
    note "the normal build failed; redeploying the release staging ran before the bench ($PRE_VERSION)"
    mkdir -p "$clone/artifacts"
    jq -n --arg r "${PRE_IMAGE%@*}" --arg d "$PRE_DIGEST" --arg v "$PRE_VERSION" --arg c "$PRE_COMMIT" \
      '{repository: $r, tags: [$v], digest: $d, version: $v, commit: $c, created: (now | todate)}' >"$clone/artifacts/image.json"
    if build_in "$clone" "$log.fallback" DeployStaging --skip --state-directory "$HOST_STATE" --lock-wait "$LOCK_WAIT"; then
      echo "restored: staging on its pre-bench release $PRE_VERSION (${PRE_DIGEST:0:19}); the normal build failed, see $log"
      return 0
    fi
  fi
  echo "restored: NO — staging may still run a bench image; run ./build.sh DeployStaging (log: $log)"
  return 1
}

# change_one_line <clone> <marker>: appends <marker> to one visible string of the home page (one line changed).
change_one_line() {
  local dir="$1" marker="$2" file before
  if [[ -f "$dir/src/WebApp/Pages/Index.cshtml" ]] && grep -q 'Ship small. Ship often. Ship safely.' "$dir/src/WebApp/Pages/Index.cshtml"; then
    file="$dir/src/WebApp/Pages/Index.cshtml"
    before="$(cat "$file")"
    sed -i "0,/Ship small. Ship often. Ship safely./s//Ship small. Ship often. Ship safely. $marker/" "$file"
  else
    file="$dir/src/WebApp/Program.cs"
    before="$(cat "$file")"
    sed -i "0,/\"Continuous Development\"/s//\"Continuous Development $marker\"/" "$file"
  fi
  local changed
  changed=$(diff <(echo "$before") "$file" | grep -c '^>' || true)
  [[ "$changed" == 1 ]] || { note "expected to change one line in $file, changed $changed"; return 1; }
  echo "${file#"$dir"/}"
}
