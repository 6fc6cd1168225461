# shellcheck shell=bash
# Turning maintenance mode on and off (see maintenance.sh): the state file, then the proxy's map and page, then the
# running proxy through its runtime API.
# needs: proxy.sh maintenance.sh

# proxy_map_value KEY VALUE: one atomic runtime update of this environment's map. The CLI splits on spaces and ';',
# so those (and the backslash) are escaped.
proxy_map_value() {
  local value
  value=$(printf '%s' "$2" | sed -e 's/[\\; ]/\\&/g')
  proxy_set "set map $(maintenance_map) $1 $value" quiet
}

# maintenance_apply: the running proxy agrees with the files. A proxy whose configuration predates the rule (it does
# not know the map) gets the environment's frontend rewritten and a seamless reload.
maintenance_apply() {
  local map
  map=$(maintenance_map)
  proxy_running && proxy_serves_env || return 0
  if ! proxy_api 'show map' | grep -qF "($map)"; then
    point_proxy_at_current
    load_proxy
    return 0
  fi
  proxy_map_value message "$(sed -n 's/^message //p' "$map")"
  proxy_map_value retry_after "$(sed -n 's/^retry_after //p' "$map")"
  proxy_map_value maintenance "$(sed -n 's/^maintenance //p' "$map")"
}

# maintenance_enable MESSAGE RETRY_AFTER_SECONDS: on (or a new message while on).
maintenance_enable() {
  local state
  state=$(maintenance_state)
  mkdir -p "$env_dir"
  printf 'since=%s\nby=%s\nretry_after=%s\nmessage=%s\n' "$(field "$state" since || true)" "$deployed_by" "$2" "$1" > "$state.tmp.$$"
  sed -i "s/^since=\$/since=$(now_utc)/" "$state.tmp.$$"
  mv -f "$state.tmp.$$" "$state"
  maintenance_render
  maintenance_apply
  say "$env_name is in maintenance: every app route answers 503 (Retry-After $2 s); /healthz and /readyz still reach the containers"
  proxy_running || say "the proxy is not running here; it starts in maintenance"
}

# maintenance_disable: off; traffic reaches the serving release again.
maintenance_disable() {
  local state version
  state=$(maintenance_state)
  if [ ! -f "$state" ]; then
    say "$env_name is not in maintenance"
    return 0
  fi
  rm -f "$state"
  maintenance_render
  maintenance_apply
  version=$(field "$current_file" version)
  say "$env_name left maintenance: traffic reaches ${version:-the serving release} again"
}

