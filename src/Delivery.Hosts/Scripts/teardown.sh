# shellcheck shell=bash
# Removing environments and the proxy. Each environment goes while its own lock is held, which is released last.
# needs: lib/output.sh lib/host.sh lock.sh proxy.sh

# Removes one environment: its frontend (a seamless reload keeps the others serving), its containers and images,
# its data store and its state.
teardown_environment() {
  acquire_lock "$lock_dir" "$env_name" 'teardown' "$lock_wait"
  acquire_lock "$proxy_lock_dir" 'the proxy' "teardown of $env_name" 60
  if [ -f "$proxy_fragment" ]; then
    rm -f "$proxy_fragment"
    if proxy_running; then load_proxy; fi
  fi
  rm -f "$(maintenance_map)" "$(maintenance_page)"
  release_lock "$proxy_lock_dir"
  remove_env_containers
  remove_data_store
  find "$env_dir" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
  say "$env_name is torn down"
  release_lock "$lock_dir"
  rmdir "$env_dir" 2>/dev/null || true
}

# Every environment named in $environments (their public ports in $environment_ports).
teardown_environments() {
  local i
  for i in "${!environments[@]}"; do
    use_environment "${environments[$i]}" "${environment_ports[$i]}"
    teardown_environment
  done
}

# The proxy process and its files, once no environment is left.

teardown_proxy() {
  acquire_lock "$proxy_lock_dir" 'the proxy' 'teardown of the proxy' 60
  stop_proxy
  rm -rf "$proxy_conf_dir" "$proxy_dir/maintenance" "$proxy_dir/haproxy.log"
  release_lock "$proxy_lock_dir"
  rmdir "$proxy_dir" "$root/envs" 2>/dev/null || true
  say "the proxy is stopped and its configuration removed"
}

remove_env_containers() {
  local name image
  while read -r name image; do
    [ -n "$name" ] || continue
    say "removing $name"
    "$docker" rm -f "$name" >/dev/null
    "$docker" image rm "$image" >/dev/null 2>&1 || true
  done < <(env_containers --all '{{.Names}} {{.Label "webapp.image"}}')
}

# The environment's data store (container.sh's use_data_store), found by its labels like its containers. A release
# phase or rollback check SIGKILLed before its trap ran can leave its container holding the volume: it goes first.
remove_data_store() {
  local volume holder
  while read -r volume; do
    [ -n "$volume" ] || continue
    while read -r holder; do
      [ -n "$holder" ] || continue
      say "removing $holder: it still holds the data store"
      "$docker" rm -f "$holder" >/dev/null
    done < <("$docker" ps --all --filter "volume=$volume" --format '{{.Names}}')
    say "removing the data store $volume"
    "$docker" volume rm "$volume" >/dev/null || fail "cannot remove the data store $volume"
  done < <("$docker" volume ls --quiet --filter "label=webapp.app=$app" --filter "label=webapp.environment=$env_name")
}
