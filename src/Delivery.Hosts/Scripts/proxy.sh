# shellcheck shell=bash
# One HAProxy process serves every environment: a shared base file plus one file per environment in
# $proxy_conf_dir, loaded as a directory. Switches go through the runtime API (no reload, so no dropped
# connections) and are also written to the environment's file, so a restarted proxy serves the same release.
# Reloads happen only when a frontend appears or disappears, and keep the listening sockets (-x); with
# idle-close-on-response the old process answers an idle keep-alive client's next request with "Connection: close"
# instead of closing under it, so a reload for one environment does not cost the other a request.
# needs: lib/output.sh lib/host.sh maintenance.sh

proxy_api() { printf '%s\n' "$1" | "$socat" -t 5 - "UNIX-CONNECT:$proxy_socket"; }
proxy_running() {
  local info
  [ -S "$proxy_socket" ] || return 1
  info=$(proxy_api 'show info' 2>/dev/null) || return 1
  case "$info" in *'Name: HAProxy'*) return 0 ;; esac
  return 1
}
proxy_serves_env() {
  proxy_api 'show stat' 2>/dev/null | awk -F, -v b="$backend" '$1 == b && $2 == "FRONTEND" { found = 1 } END { exit !found }'
}
# proxy_set COMMAND [quiet]
proxy_set() {
  local out
  out=$(proxy_api "$1") || fail "the proxy's runtime API did not answer '$1'"
  case "$out" in
    ''|*'changed from'*|*'no need to change'*) [ "${2:-}" = quiet ] || say "proxy: $1" ;;
    *) fail "the proxy refused '$1': $(printf '%s\n' "$out" | head -n 1)" ;;
  esac
}
server_sessions() {
  proxy_api 'show stat' | awk -F, -v b="$backend" -v s="$1" '$1 == b && $2 == s { print $5 }'
}

write_proxy_base() {
  local tmp="$proxy_conf_dir/.base.$$"
  mkdir -p "$proxy_conf_dir"
  cat > "$tmp" <<BASE
# managed by webapp-deploy: settings shared by all environments; each environment has its own file here
global
    stats socket $proxy_socket mode 600 level admin expose-fd listeners
    stats timeout 30s
    maxconn 4096

defaults
    mode http
    option http-server-close
    option idle-close-on-response
    option redispatch
    retries 3
    timeout connect 3s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
BASE
  mv -f "$tmp" "$proxy_conf_dir/00-global.cfg"
}

# write_proxy_fragment ACTIVE_SLOT ACTIVE_PORT STANDBY_PORT VERSION: atomically, via rename.
write_proxy_fragment() {
  local blue_port="$3" green_port="$3" blue_flag='' green_flag='' tmp="$proxy_fragment.tmp.$$"
  if [ "$1" = blue ]; then blue_port="$2"; green_flag=' disabled'; else green_port="$2"; blue_flag=' disabled'; fi
  mkdir -p "$proxy_conf_dir"
  {
    printf '# managed by webapp-deploy: %s serves %s from slot %s; rewritten on every switch\n' "$env_name" "$4" "$1"
    printf 'frontend %s\n    bind %s:%s\n' "$backend" "$public_bind" "$public_port"
    maintenance_frontend_rules
    printf '    default_backend %s\n\n' "$backend"
    printf 'backend %s\n    server blue 127.0.0.1:%s%s\n    server green 127.0.0.1:%s%s\n' "$backend" "$blue_port" "$blue_flag" "$green_port" "$green_flag"
  } > "$tmp"
  mv -f "$tmp" "$proxy_fragment"
}

# Starts the proxy from the files on disk, or reloads it seamlessly when it already runs.
load_proxy() {
  local out old waited=0
  write_proxy_base
  out=$("$haproxy" -c -f "$proxy_conf_dir" 2>&1) || fail "the proxy configuration in $proxy_conf_dir is invalid: $(printf '%s\n' "$out" | grep -m 1 ALERT || true)"
  if proxy_running; then
    old=$(cat "$proxy_pidfile" 2>/dev/null || true)
    say "reloading the proxy to load $proxy_conf_dir (listening sockets are handed over)"
    # shellcheck disable=SC2086 # The pid file may list several processes; each must be its own argument.
    "$haproxy" -D -f "$proxy_conf_dir" -p "$proxy_pidfile" -x "$proxy_socket" -sf $old </dev/null >"$proxy_dir/haproxy.log" 2>&1 || fail "the proxy did not reload: $(tail -n 1 "$proxy_dir/haproxy.log")"
  else
    say "starting the proxy from $proxy_conf_dir"
    "$haproxy" -D -f "$proxy_conf_dir" -p "$proxy_pidfile" </dev/null >"$proxy_dir/haproxy.log" 2>&1 || fail "the proxy did not start: $(tail -n 1 "$proxy_dir/haproxy.log")"
  fi
  until proxy_running; do
    waited=$((waited + 1))
    [ "$waited" -le 100 ] || fail "the proxy does not answer on $proxy_socket"
    sleep 0.1
  done
}

stop_proxy() {
  local pid waited
  [ -f "$proxy_pidfile" ] || return 0
  for pid in $(<"$proxy_pidfile"); do
    if ! pid_alive "$pid" || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != haproxy ]; then continue; fi
    say "stopping the proxy (pid $pid)"
    kill -USR1 "$pid" 2>/dev/null || true
    waited=0
    while pid_alive "$pid" && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  rm -f "$proxy_pidfile" "$proxy_socket"
}

check_public_port() {
  if proxy_running && proxy_serves_env; then return 0; fi
  if port_open "${public_bind:-127.0.0.1}" "$public_port"; then
    fail "public port $public_port of $env_name is already in use by another program, not this host's proxy; free it or choose another port (nothing was changed)"
  fi
}

# Makes the file on disk and the running proxy agree with the environment's current release.
point_proxy_at_current() {
  local slot port other
  slot=$(field "$current_file" slot)
  port=$(field "$current_file" port)
  if [ -z "$slot" ]; then rm -f "$proxy_fragment"; return 0; fi
  if [ "$slot" = blue ]; then other=green; else other=blue; fi
  write_proxy_fragment "$slot" "$port" "$port" "$(field "$current_file" version)"
  if proxy_running && proxy_serves_env; then
    proxy_set "set server $backend/$slot addr 127.0.0.1 port $port" quiet
    proxy_set "set server $backend/$slot state ready" quiet
    proxy_set "set server $backend/$other state maint" quiet
  fi
}
