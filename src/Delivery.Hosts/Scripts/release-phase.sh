# shellcheck shell=bash
# The release phase: the operator's command (migrations, cache warm-up) runs once per deploy in a container of the new
# image, with the app's environment, hardening and data store (container.sh), before any switch. Its output streams to
# the caller, capped so it fits SSM's output limit; a non-zero exit or the timeout stops the deploy with the exit code
# and the last lines.
# needs: lib/output.sh lock.sh container.sh

# A container of the release phase: removed at every exit, so a killed run leaves nothing that reconcile must know.
on_release_phase_exit() {
  local status=$?
  set +e
  trap '' INT TERM
  [ -z "${phase_follower:-}" ] || kill "$phase_follower" 2>/dev/null
  [ -z "${phase_name:-}" ] || "$docker" rm -f "$phase_name" >/dev/null 2>&1
  release_held_locks
  exit "$status"
}

# run_release_phase: release_command (an array: program, then arguments) in the new image, at most
# release_command_timeout seconds, the first release_output_lines lines of its output shown.
run_release_phase() {
  local started state exit_code ms tail_lines timed_out=false
  phase_name="$backend-release-phase"
  "$docker" rm -f "$phase_name" >/dev/null 2>&1 || true
  say "release phase: running ${release_command[*]} in $release_version"
  started=$(date +%s%3N)
  use_hardening
  use_data_store rw
  "$docker" run --detach --name "$phase_name" \
    --label "webapp.release-phase=$env_name" \
    "${hardening[@]}" "${data_store[@]}" \
    --entrypoint "${release_command[0]}" \
    "$release_image" "${release_command[@]:1}" >/dev/null 2>&1 \
    || fail "release phase: cannot start ${release_command[0]} in $release_image (nothing was switched)"
  "$docker" logs --follow "$phase_name" 2>&1 | release_phase_output &
  phase_follower=$!
  while :; do
    state=$("$docker" inspect --format '{{.State.Status}}' "$phase_name" 2>/dev/null || echo gone)
    [ "$state" = running ] || [ "$state" = created ] || break
    if [ $(( $(date +%s%3N) - started )) -ge $(( release_command_timeout * 1000 )) ]; then
      timed_out=true
      "$docker" kill "$phase_name" >/dev/null 2>&1 || true
      break
    fi
    sleep 0.2
  done
  ms=$(( $(date +%s%3N) - started ))
  exit_code=$("$docker" inspect --format '{{.State.ExitCode}}' "$phase_name" 2>/dev/null || echo 255)
  wait "$phase_follower" 2>/dev/null || true
  phase_follower=''
  tail_lines=$("$docker" logs --tail 5 "$phase_name" 2>&1 | tr '\n' '|' | sed 's/|$//; s/|/ | /g')
  "$docker" rm -f "$phase_name" >/dev/null 2>&1 || true
  phase_name=''
  emit "{\"kind\":\"releasephase\",\"exit\":$exit_code,\"ms\":$ms,\"timed_out\":$timed_out}"
  if [ "$timed_out" = true ]; then
    fail "release phase timed out after ${release_command_timeout}s (exit code $exit_code); nothing was switched; last output: ${tail_lines:-(none)}"
  fi
  if [ "$exit_code" != 0 ]; then
    fail "release phase failed with exit code $exit_code; nothing was switched; last output: ${tail_lines:-(none)}"
  fi
  say "release phase passed in ${ms} ms"
}

# The command's output as progress lines, at most release_output_lines of them.
release_phase_output() {
  local count=0 line
  while IFS= read -r line || [ -n "$line" ]; do
    count=$((count + 1))
    if [ "$count" -le "$release_output_lines" ]; then
      say "release phase: $line"
    elif [ "$count" = $((release_output_lines + 1)) ]; then
      say "release phase: [output shortened to $release_output_lines lines]"
    fi
  done
}
