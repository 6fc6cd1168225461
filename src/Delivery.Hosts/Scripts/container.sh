# shellcheck shell=bash
# A deploy's container work: pull, repair an interrupted run, start the new release beside the serving one, drain
# and stop the previous one, prune. Stopped containers of earlier releases are the rollback targets: they keep their
# images on the host, so a rollback needs no registry.
# needs: lib/output.sh lib/host.sh lock.sh proxy.sh registry.sh

# An image already on the host (same digest) is not pulled again; that is what makes rollbacks registry-free.
# A failed pull is a typed failure line (its reason says why), so the caller need not match this message.
pull_image() {
  local out
  if "$docker" image inspect "$release_image" >/dev/null 2>&1; then
    say "$release_image is already on this host"
    return 0
  fi
  registry_login "$release_image"
  say "pulling $release_image"
  if ! out=$(docker_pull "$release_image" 2>&1); then
    out=$(printf '%s\n' "$out" | tail -n 1)
    registry_failure "$(registry_failure_reason "$out")" "$release_image" "$out"
  fi
}

# Repairs what an interrupted run (SIGKILL, reboot) left behind: its new container and a half-done switch.
reconcile_environment() {
  local current name digest
  current=$(field "$current_file" container)
  while read -r name digest; do
    if [ -z "$name" ] || [ "$name" = "$current" ]; then continue; fi
    if [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file"; then
      say "stopping $name: an interrupted run left it running"
      "$docker" stop -t "$stop_timeout" "$name" >/dev/null
    else
      say "removing $name: an interrupted run left it running and it never served"
      "$docker" rm -f "$name" >/dev/null
    fi
  done < <(env_containers '' '{{.Names}} {{.Label "webapp.digest"}}')
  [ -n "$current" ] || return 0
  acquire_lock "$proxy_lock_dir" 'the proxy' "check of $env_name" 60
  point_proxy_at_current
  release_lock "$proxy_lock_dir"
}

# The hardening every container of a release runs with, in one place: a read-only root, no capabilities, no new
# privileges, the environment's limits (and the image's own non-root user).
# shellcheck disable=SC2034 # Read by the callers as "${hardening[@]}".
use_hardening() {
  hardening=(--env ASPNETCORE_ENVIRONMENT="$aspnetcore_environment" --read-only --tmpfs /tmp
    --security-opt no-new-privileges --cap-drop ALL --memory "$memory" --cpus "$cpus")
}

# The environment's data store: a named volume, $backend-data, that the release phase writes (migrations, a schema
# marker) and every container of a release mounts at /data, so the release that serves reads what its release phase
# wrote. A deploy, rollback or release phase creates it when missing; prune keeps it; only teardown of the environment
# removes it. Docker fills a new volume from the image's /data, owner included, so the image's non-root user can write
# it (the root stays read-only). use_data_store rw|ro: ro mounts it read-only and creates nothing (a check).
# shellcheck disable=SC2034 # Read by the callers as "${data_store[@]}".
use_data_store() {
  data_volume="$backend-data"
  data_store=()
  if ! "$docker" volume inspect "$data_volume" >/dev/null 2>&1; then
    [ "$1" = rw ] || return 0
    "$docker" volume create --label "webapp.app=$app" --label "webapp.environment=$env_name" "$data_volume" >/dev/null \
      || fail "cannot create the data store $data_volume (nothing was switched)"
    say "created the data store $data_volume"
  fi
  if [ "$1" = rw ]; then
    data_store=(--mount "type=volume,source=$data_volume,target=/data")
  else
    data_store=(--mount "type=volume,source=$data_volume,target=/data,readonly")
  fi
}

# The release image's user, in release_user. The image can leave the host after pull_image: the other environment
# prunes under its own lock, and its "docker image rm" of a release both use removes the reference while no container
# holds it yet. It is pulled again then, once.
inspect_release_user() {
  local out
  if ! out=$("$docker" image inspect --format '{{.Config.User}}' "$release_image" 2>&1); then
    say "$release_image left this host after its pull; pulling it again"
    pull_image
    out=$("$docker" image inspect --format '{{.Config.User}}' "$release_image" 2>&1) \
      || fail "cannot inspect $release_image on this host: $(printf '%s\n' "$out" | tail -n 1)"
  fi
  release_user=$out
}

# Starts the new release in the slot the serving one does not use, on a free 127.0.0.1 port.
start_green() {
  local port="$private_port_first" release_user out
  old_name=$(field "$current_file" container)
  old_slot=$(field "$current_file" slot)
  old_port=$(field "$current_file" port)
  old_version=$(field "$current_file" version)
  if [ "$old_slot" = blue ]; then green_slot=green; else green_slot=blue; fi
  green_name="$backend-$(printf '%.12s' "${release_digest#sha256:}")-$green_slot"
  inspect_release_user
  case "$release_user" in
    ''|root|0|root:*|0:*) fail "$release_image runs as root; build it with a non-root USER (nothing was changed)" ;;
  esac
  "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
  use_hardening
  use_data_store rw
  while :; do
    [ "$port" -le "$private_port_last" ] || fail "no free private port in $private_port_first-$private_port_last on 127.0.0.1"
    if port_open 127.0.0.1 "$port"; then port=$((port + 1)); continue; fi
    if out=$("$docker" run --detach --name "$green_name" \
        --restart unless-stopped \
        --publish "127.0.0.1:$port:$container_port" \
        --label "webapp.app=$app" \
        --label "webapp.environment=$env_name" \
        --label "webapp.slot=$green_slot" \
        --label "webapp.version=$release_version" \
        --label "webapp.digest=$release_digest" \
        --label "webapp.image=$release_image" \
        --label "webapp.commit=$release_commit" \
        "${hardening[@]}" "${data_store[@]}" \
        "$release_image" 2>&1); then
      break
    fi
    "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
    case "$out" in
      *'already allocated'*|*'address already in use'*) port=$((port + 1)) ;;
      *) green_name=''; fail "cannot start $release_image: $(printf '%s\n' "$out" | tail -n 1)" ;;
    esac
  done
  green_port=$port
  say "started $green_name ($release_version) on 127.0.0.1:$green_port"
}

# wait_sessions SLOT: waits for the slot's in-flight requests, at most the drain timeout.
wait_sessions() {
  local deadline sessions
  deadline=$(( $(date +%s) + drain_timeout ))
  while :; do
    sessions=$(server_sessions "$1" || true)
    [ "${sessions:-0}" != 0 ] || break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "drain timeout: $backend/$1 still has $sessions sessions after ${drain_timeout}s"
      break
    fi
    sleep 0.2
  done
}

# The previous release: its in-flight requests end, then it leaves rotation (maint) and stops; it stays on the host
# as a rollback target. With a bake, stopping waits until the bake has passed.
quiesce_previous() {
  [ -n "$old_name" ] || return 0
  wait_sessions "$old_slot"
  ( proxy_set "set server $backend/$old_slot state maint" ) || say "warning: could not put $backend/$old_slot in maintenance"
}
stop_previous() {
  [ -n "$old_name" ] || return 0
  say "stopping $old_name ($old_version)"
  "$docker" stop -t "$stop_timeout" "$old_name" >/dev/null 2>&1 || say "warning: could not stop $old_name"
}
drain_previous() {
  quiesce_previous
  stop_previous
}

# Keeps the serving release plus the newest other verified (in history) releases up to keep_releases; removes the
# rest, duplicates of a kept release and containers that never passed the health gate, with their images (an image
# another environment's container still uses is left alone by docker).
prune_releases() {
  local current kept=1 seen name digest image
  current=$(field "$current_file" container)
  seen=" $(field "$current_file" digest) "
  while read -r name digest image; do
    if [ -z "$name" ] || [ "$name" = "$current" ]; then continue; fi
    if [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file"; then
      case "$seen" in
        *" $digest "*) ;;
        *) if [ "$kept" -lt "$keep_releases" ]; then kept=$((kept + 1)); seen="$seen$digest "; continue; fi ;;
      esac
    fi
    say "pruning $name"
    "$docker" rm -f "$name" >/dev/null
    "$docker" image rm "$image" >/dev/null 2>&1 || true
  done < <(env_containers --all '{{.Names}} {{.Label "webapp.digest"}} {{.Label "webapp.image"}}')
}
