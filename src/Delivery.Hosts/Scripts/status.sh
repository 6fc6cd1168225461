# shellcheck shell=bash
# Read-only reports, one JSON object per line, for the build to render. They take no lock.
# needs: lib/output.sh lib/host.sh lock.sh

report_status() {
  local version port health public='' version_q holder=''
  version=$(field "$current_file" version)
  if [ -z "$version" ]; then
    emit "{\"kind\":\"current\",\"environment\":$(json_str "$env_name"),\"deployed\":false}"
  else
    port=$(field "$current_file" port)
    health=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port$health_path" 2>/dev/null) || true
    public=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 3 "http://${public_bind:-127.0.0.1}:$public_port$health_path" 2>/dev/null) || true
    version_q=$(json_str "$version")
    emit "{\"kind\":\"current\",\"environment\":$(json_str "$env_name"),\"deployed\":true,\"version\":$version_q,\"digest\":$(json_str "$(field "$current_file" digest)"),\"image\":$(json_str "$(field "$current_file" image)"),\"commit\":$(json_str "$(field "$current_file" commit)"),\"since\":$(json_str "$(field "$current_file" since)"),\"container\":$(json_str "$(field "$current_file" container)"),\"port\":$(json_str "$port"),\"health\":$(json_str "${health:-000}"),\"public_health\":$(json_str "${public:-000}"),\"previous\":$(json_str "$(field "$previous_file" version)")}"
  fi
  retained_releases | while read -r version digest image commit; do
    emit "{\"kind\":\"retained\",\"version\":$(json_str "$version"),\"digest\":$(json_str "$digest"),\"image\":$(json_str "$image"),\"commit\":$(json_str "${commit#-}")}"
  done
  if [ -d "$lock_dir" ]; then holder=$(lock_holder "$lock_dir"); fi
  emit "{\"kind\":\"lock\",\"holder\":$(json_str "$holder")}"
}

report_history() {
  [ -f "$history_file" ] || return 0
  sed 's/^/webapp-deploy: data: {"kind":"history","record":/; s/$/}/' "$history_file"
}

# show_logs COUNT: the serving release's last COUNT log lines.
show_logs() {
  local name
  name=$(field "$current_file" container)
  [ -n "$name" ] || fail "nothing is deployed on $env_name"
  "$docker" logs --tail "$1" "$name" 2>&1 | sed 's/^/webapp-deploy: log: /'
}
