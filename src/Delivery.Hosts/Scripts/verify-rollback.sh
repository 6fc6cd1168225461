# shellcheck shell=bash
# Proof that each retained rollback target still works: its image is on the host (or the registry still has its
# digest: a manifest HEAD, nothing pulled), and a container of it, hardened as a release, passes the health path on a
# spare loopback port; then it is removed. Nothing that serves is touched.
# needs: lib/output.sh lib/host.sh container.sh

on_verify_exit() {
  local status=$?
  set +e
  trap '' INT TERM
  [ -z "${verify_name:-}" ] || "$docker" rm -f "$verify_name" >/dev/null 2>&1
  exit "$status"
}

# verify_rollback_targets: one rollbackcheck line per retained release.
verify_rollback_targets() {
  local version digest image commit result reason
  use_hardening
  use_data_store ro
  while read -r version digest image commit; do
    if "$docker" image inspect "$image" >/dev/null 2>&1; then
      check_target_starts "$image" "$digest"
    else
      check_registry_has "$image" "$digest"
    fi
    say "rollback target $version ($digest): $result${reason:+: $reason}"
    emit "{\"kind\":\"rollbackcheck\",\"version\":$(json_str "$version"),\"digest\":$(json_str "$digest"),\"image\":$(json_str "$image"),\"result\":\"$result\",\"reason\":$(json_str "$reason")}"
  done < <(retained_releases)
}

# check_registry_has IMAGE DIGEST: sets result and reason from a manifest HEAD of the digest (https, then http).
check_registry_has() {
  local repository="${1%@*}" registry path code scheme
  registry="${repository%%/*}" path="${repository#*/}"
  for scheme in https http; do
    code=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 10 --head \
      -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
      "$scheme://$registry/v2/$path/manifests/$2" 2>/dev/null) || code=000
    [ "$code" = 000 ] || break
  done
  case "$code" in
    200) result=ok reason="not on this host; $registry has $2 (a rollback pulls it)" ;;
    404) result=missing reason="neither on this host nor in $registry (HTTP 404 for $2)" ;;
    000) result=unpullable reason="not on this host, and $registry does not answer" ;;
    *) result=unpullable reason="not on this host, and $registry answers HTTP $code for $2" ;;
  esac
}

# check_target_starts IMAGE DIGEST: sets result and reason from a hardened container on a spare loopback port.
check_target_starts() {
  local port="$private_port_last" started=false deadline code state out
  verify_name="$backend-verify-$(printf '%.12s' "${2#sha256:}")"
  "$docker" rm -f "$verify_name" >/dev/null 2>&1 || true
  # A port taken between the look and the bind (a deploy or another check on the same loopback) moves it down one.
  while :; do
    if [ "$port" -lt "$private_port_first" ]; then out="no free private port in $private_port_first-$private_port_last on 127.0.0.1"; break; fi
    if port_open 127.0.0.1 "$port"; then port=$((port - 1)); continue; fi
    if out=$("$docker" run --detach --name "$verify_name" --publish "127.0.0.1:$port:$container_port" \
        --label "webapp.verify=$env_name" "${hardening[@]}" "${data_store[@]}" "$1" 2>&1); then
      started=true; break
    fi
    "$docker" rm -f "$verify_name" >/dev/null 2>&1 || true
    case "$out" in
      *'already allocated'*|*'address already in use'*) port=$((port - 1)) ;;
      *) break ;;
    esac
  done
  if [ "$started" = false ]; then
    result=unhealthy reason="does not start: $(printf '%s\n' "$out" | sed "/^Run 'docker run --help'/d; /^$/d" | tail -n 1)"
  else
    result=unhealthy reason="no HTTP 200 from $health_path within ${health_timeout}s"
    deadline=$(( $(date +%s) + health_timeout ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
      code=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port$health_path" 2>/dev/null) || true
      if [ "$code" = 200 ]; then result=ok reason="on this host; passed $health_path on 127.0.0.1:$port"; break; fi
      state=$("$docker" inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$verify_name" 2>/dev/null) || state='missing -'
      case "$state" in
        running*|created*) ;;
        *) result=unhealthy reason="its process stopped (container ${state% *}, exit code ${state#* })"; break ;;
      esac
      sleep 0.5
    done
  fi
  "$docker" rm -f "$verify_name" >/dev/null 2>&1 || true
  verify_name=''
}
