# shellcheck shell=bash
# What serves is decided in two places that must agree: the proxy and the environment's current file. The switch
# updates both while holding the proxy lock; writing the current file is the commit point (before it, an
# interrupted run is undone; after it, the new release is the one that serves).
# needs: lib/output.sh lib/host.sh lock.sh proxy.sh

switch_traffic() {
  acquire_lock "$proxy_lock_dir" 'the proxy' "switch of $env_name to $release_version" 60
  switching=1
  write_proxy_fragment "$green_slot" "$green_port" "${old_port:-$green_port}" "$release_version"
  if proxy_running && proxy_serves_env; then
    proxy_set "set server $backend/$green_slot addr 127.0.0.1 port $green_port"
    proxy_set "set server $backend/$green_slot state ready"
    if [ -n "$old_slot" ]; then proxy_set "set server $backend/$old_slot state drain"; fi
  else
    load_proxy
  fi
  commit_current
  switching=0
  # shellcheck disable=SC2034 # The bake (bake.sh) times itself from the switch when the plan has one.
  switched_ms=$(date +%s%3N)
  emit "{\"kind\":\"switched\",\"previous\":$(json_str "${old_version:-}")}"
  release_lock "$proxy_lock_dir"
  say "$env_name now serves $release_version from $green_name"
}

commit_current() {
  local tmp="$current_file.tmp.$$"
  mkdir -p "$env_dir"
  if [ -f "$current_file" ]; then
    cp "$current_file" "$previous_file.tmp.$$"
    mv -f "$previous_file.tmp.$$" "$previous_file"
  fi
  printf 'version=%s\ndigest=%s\nimage=%s\ncommit=%s\ncontainer=%s\nslot=%s\nport=%s\nsince=%s\n' \
    "$release_version" "$release_digest" "$release_image" "$release_commit" "$green_name" "$green_slot" "$green_port" "$(now_utc)" > "$tmp"
  mv -f "$tmp" "$current_file"
  green_committed=1
}

# record_release ACTION [REASON]: appends one JSON line to the history. Only health-gated releases reach this point,
# so the history is also the record of which digests were verified on this environment, unless a later bake-failed
# line for the same digest says the release was rolled back by its bake.
record_release() {
  local json
  json="\"time\":$(json_str "$(field "$current_file" since)"),\"environment\":$(json_str "$env_name"),\"action\":$(json_str "$1")"
  json="$json,\"version\":$(json_str "$release_version"),\"digest\":$(json_str "$release_digest"),\"image\":$(json_str "$release_image")"
  json="$json,\"commit\":$(json_str "$release_commit"),\"deployed_by\":$(json_str "$deployed_by"),\"container\":$(json_str "$green_name")"
  if [ -n "${2:-}" ]; then json="$json,\"reason\":$(json_str "$2")"; fi
  # A deploy of a digest without valid provenance (--allow-unattested) says so, and why.
  if [ "$1" = deploy ] && [ -n "${release_unattested:-}" ]; then json="$json,\"unattested\":$(json_str "$release_unattested")"; fi
  printf '{%s}\n' "$json" >> "$history_file"
  emit "{\"kind\":\"release\",$json}"
}

# resolve_rollback_target [VERSION]: sets release_* from a retained container: the previous release, or the one
# named by VERSION.
resolve_rollback_target() {
  local current_version current_digest candidates line
  current_version=$(field "$current_file" version)
  current_digest=$(field "$current_file" digest)
  [ -n "$current_digest" ] || fail "nothing is deployed on $env_name, so there is nothing to roll back"
  candidates=$(retained_releases)
  if [ -n "$1" ]; then
    [ "$1" != "$current_version" ] || fail "$1 is already serving on $env_name"
    line=$(printf '%s\n' "$candidates" | awk -v v="$1" '$1 == v && !done { print; done = 1 }')
  else
    line=$(printf '%s\n' "$candidates" | awk -v d="$(field "$previous_file" digest)" \
      'NF && first == "" { first = $0 } $2 == d && !done { print; done = 1 } END { if (!done && first != "") print first }')
  fi
  if [ -z "$line" ]; then
    fail "${1:-an earlier release} is not retained on $env_name; available: $(printf '%s\n' "$candidates" | awk 'NF { printf "%s%s", sep, $1; sep = ", " } END { if (!sep) printf "none" }')"
  fi
  read -r release_version release_digest release_image release_commit <<< "$line"
  [ "$release_commit" != - ] || release_commit=''
  "$docker" image inspect "$release_image" >/dev/null 2>&1 || fail "the image of $release_version ($release_image) is no longer on this host"
  say "rolling $env_name back from $current_version to $release_version"
}

# The exit trap of a deploy or rollback: a new release that never became the serving one is removed (and a
# half-done switch pointed back), then the locks are released. Also runs on INT/TERM, which exit through it.
on_deploy_exit() {
  local status=$?
  set +e
  trap '' INT TERM
  if [ -n "${green_name:-}" ] && [ "${green_committed:-0}" != 1 ]; then
    if [ "${switching:-0}" = 1 ]; then
      ( point_proxy_at_current ) || say "warning: could not point the proxy back at the serving release"
    fi
    say "removing $green_name: it never became the serving release"
    "$docker" rm -f "$green_name" >/dev/null 2>&1
  fi
  [ -z "${bake_dir:-}" ] || rm -rf "$bake_dir"
  release_held_locks
  exit "$status"
}
