# shellcheck shell=sh
# The SSM side of a host script: the agent runs this with sh (dash on Debian). The script itself is in "$1", written
# there by the rendered command; it runs under bash with its output in a log beside it. SSM keeps only the first
# 24,000 characters of stdout, so a long output is shortened to its last lines and every data line (the full log stays
# on the instance), and the last line is always the summary: webapp-deploy: summary: {...}.

# run_host_script FILE: runs it, forwards SSM's cancel (TERM/INT) to it, prints its output and the summary, and
# exits with its status.
run_host_script() {
  log="$1.log"
  bash "$1" </dev/null >"$log" 2>&1 &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null' TERM INT
  wait "$child"; status=$?
  while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
  kept=''
  error=$(grep '^webapp-deploy: error: ' "$log" | tail -n 1 | sed 's/^webapp-deploy: error: //')
  if [ "$(wc -c < "$log")" -le "$whole_output_bytes" ]; then
    cat "$log"; rm -f "$log"
  else
    echo "webapp-deploy: [output shortened to its last 40 lines and its data lines; the full log is $log on $(uname -n)]"
    grep -v '^webapp-deploy: data: ' "$log" | tail -n 40 | cut -c1-200
    grep '^webapp-deploy: data: ' "$log" | awk '{ n += length($0) + 1; if (n > 12000) exit; print }'
    kept="$log"
  fi
  printf 'webapp-deploy: summary: {"instance":"%s","exit":%d,"error":"%s","log":"%s"}\n' "$(summary_text "${AWS_SSM_INSTANCE_ID:-$(uname -n)}")" "$status" "$(summary_text "$error")" "$(summary_text "$kept")"
  exit "$status"
}

# summary_text TEXT: one line, at most 300 characters, escaped for a JSON string.
summary_text() { printf '%s' "$1" | tr -d '\r\n' | cut -c1-300 | sed 's/\\/\\\\/g; s/"/\\"/g'; }
