# shellcheck shell=bash
# The health gate. A release that fails it is removed before it ever takes traffic: that is the rollback.
# needs: lib/output.sh

wait_healthy() {
  local url="http://127.0.0.1:$green_port$health_path" deadline code state
  deadline=$(( $(date +%s) + health_timeout ))
  say "waiting up to ${health_timeout}s for HTTP 200 from $url"
  while :; do
    code=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
    if [ "$code" = 200 ]; then
      say "$green_name is healthy"
      return 0
    fi
    state=$("$docker" inspect --format '{{.State.Status}} {{.RestartCount}}' "$green_name" 2>/dev/null) || state='missing 0'
    case "$state" in
      'running 0'|'created 0') ;;
      *) reject_green "its process stopped (container $state)" ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      reject_green "no HTTP 200 from $health_path within ${health_timeout}s (last answer: ${code:-none})"
    fi
    sleep 0.5
  done
}

# reject_green REASON: shows the new release's last log lines, removes it and fails; the serving release stays.
reject_green() {
  say "last log lines of $green_name:"
  "$docker" logs --tail 20 "$green_name" 2>&1 | sed 's/^/    | /' || true
  "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
  green_name=''
  fail "$release_version failed the health gate on $env_name: $1; it was removed and ${old_version:-nothing} keeps serving"
}
