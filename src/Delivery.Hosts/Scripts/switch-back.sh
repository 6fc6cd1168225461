# shellcheck shell=bash
# The undo of a stopped deploy, on a host whose state the build cannot know: the agent may have SIGKILLed the deploy
# at any line, before or after its switch (the commit point, see release.sh).
# needs: lib/output.sh lib/host.sh release.sh container.sh status.sh

# resolve_switch_back DIGEST: after a deploy of DIGEST stopped (a failure elsewhere, or a cancel that SIGKILLed it
# anywhere), the host goes back to the previous release only if DIGEST is what serves; otherwise the killed run never
# committed, so reconciling what it left is all there is to do, and the script ends reporting what serves.
resolve_switch_back() {
  local name status
  if [ "$(field "$current_file" digest)" != "$1" ]; then
    reconcile_environment
    # A SIGKILLed docker CLI may already have asked the engine for the new container, which the engine still creates
    # and starts: look again a moment later, and remove one that was created but never started as well.
    sleep 1
    reconcile_environment
    while read -r name status; do
      if [ -n "$name" ] && [ "$status" = created ]; then
        say "removing $name: an interrupted run created it and never started it"
        "$docker" rm -f "$name" >/dev/null
      fi
    done < <(env_containers --all '{{.Names}} {{.State}}' | grep -F -- "$(printf '%.12s' "${1#sha256:}")" || true)
    say "$env_name still serves $(field "$current_file" version): the stopped deploy never switched here; nothing to switch back"
    report_status
    exit 0
  fi
  resolve_rollback_target ''
}
