# shellcheck shell=bash
# Output lines carry a fixed marker so the caller can tell progress, errors and machine-readable data apart on any
# host (local bash or SSM). Data lines are JSON objects whose "kind" is one of HostDataKind's wire names.

say() { printf 'webapp-deploy: %s\n' "$*"; }
fail() { printf 'webapp-deploy: error: %s\n' "$*"; exit 1; }
emit() { printf 'webapp-deploy: data: %s\n' "$*"; }

json_str() {
  local s="$1"
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# timed PHASE COMMAND...: runs one step and reports how long it took, in milliseconds.
timed() {
  local phase="$1" started
  shift
  started=$(date +%s%3N)
  "$@"
  emit "{\"kind\":\"timing\",\"phase\":\"$phase\",\"ms\":$(( $(date +%s%3N) - started ))}"
}
