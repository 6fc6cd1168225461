# shellcheck shell=bash
# The bake: after the switch the previous release stays running out of rotation (HAProxy maint) while the new one is
# judged from its own /metrics, read straight from its container port with curl and reduced with awk (nothing but
# the host's tools, so it runs the same through SSM). A breach is another runtime-API switch back. Counters are
# cumulative, so every judgement is a difference between a snapshot taken just before the switch and the latest
# one; the new release's cold requests (warm-up probes) fall before that first snapshot.
# needs: lib/output.sh lib/host.sh lock.sh proxy.sh container.sh health.sh release.sh

# metrics_snapshot PORT FILE: one scrape reduced to "requests N", "errors N" and "bucket LE N" lines, summed over
# every series except the metrics endpoint's own (the bake's scrapes must not count).
metrics_snapshot() {
  local body
  body=$("$curl" -fsS --max-time 3 "http://127.0.0.1:$1$metrics_path" 2>&1) || {
    snapshot_error=$(printf '%s\n' "$body" | tail -n 1)
    return 1
  }
  printf '%s\n' "$body" | awk -v skip="=\"$metrics_path\"" '
    /^#/ || NF < 2 || index($0, skip) { next }
    { name = $1; sub(/\{.*/, "", name) }
    name == "http_requests_received_total" { req += $2; if ($1 ~ /code="5[0-9][0-9]"/) err += $2; next }
    name == "http_request_duration_seconds_bucket" && match($1, /le="[^"]*"/) { b[substr($1, RSTART + 4, RLENGTH - 5)] += $2 }
    END {
      printf "requests %.0f\nerrors %.0f\n", req, err
      for (le in b) printf "bucket %s %.0f\n", le, b[le]
    }' > "$2"
}

# bake_eval START NOW EXTRA_FAILED: what happened between two snapshots, judged. Prints
# "REQUESTS ERRORS RATE P95 P99 LIMIT VERDICT"; quantiles interpolate within histogram buckets as Prometheus'
# histogram_quantile does, and the latency limit is max(ratio x baseline p99, floor). Probe requests that got no
# HTTP answer at all never reach the release's counters, so they are added as failed requests.
bake_eval() {
  awk -v extra="$3" -v base="${baseline_p99:-null}" -v max_err="$bake_max_error_rate" -v ratio="$bake_latency_ratio" \
      -v floor="$bake_latency_floor" -v min="$bake_min_requests" '
    function key() { return NF == 3 ? $1 " " $2 : $1 }
    function bound(le) { return le == "+Inf" ? 1e308 : le + 0 }
    function quantile(q,   rank, i, lo, below) {
      if (n == 0 || cnt[n] <= 0) return "null"
      rank = q * cnt[n]; lo = 0; below = 0
      for (i = 1; i <= n; i++) {
        if (cnt[i] >= rank) {
          if (les[i] == "+Inf") return i == 1 ? "null" : sprintf("%.4f", lo)
          if (cnt[i] == below) return sprintf("%.4f", bound(les[i]))
          return sprintf("%.4f", lo + (bound(les[i]) - lo) * (rank - below) / (cnt[i] - below))
        }
        lo = bound(les[i]); below = cnt[i]
      }
      return sprintf("%.4f", lo)
    }
    FILENAME == ARGV[1] { start[key()] = $NF; next }
    $1 == "requests" { req = $NF - start["requests"]; next }
    $1 == "errors" { err = $NF - start["errors"]; next }
    $1 == "bucket" { n++; les[n] = $2; cnt[n] = $NF - start[key()] }
    END {
      for (i = 2; i <= n; i++)
        for (j = i; j > 1 && bound(les[j - 1]) > bound(les[j]); j--) {
          t = les[j]; les[j] = les[j - 1]; les[j - 1] = t; t = cnt[j]; cnt[j] = cnt[j - 1]; cnt[j - 1] = t
        }
      req += extra; err += extra
      rate = req > 0 ? err / req : 0
      p95 = quantile(0.95); p99 = quantile(0.99)
      limit = (base == "null" ? 0 : base * ratio); if (limit < floor) limit = floor
      verdict = "ok"
      if (req < min) verdict = "wait"
      else if (rate > max_err) verdict = "error-rate"
      else if (p99 != "null" && p99 + 0 > limit) verdict = "latency"
      printf "%d %d %.4f %s %s %.4f %s\n", req, err, rate, p95, p99, limit, verdict
    }' "$1" "$2"
}

# Before the switch: the previous release's lifetime p99 as the baseline, one warm-up request per probe path to the
# new release (its cold start is not judged), then the new release's starting counters.
bake_prepare() {
  local path
  [ -n "$old_name" ] || return 0
  bake_dir="$env_dir/bake.$$"
  rm -rf "$bake_dir"
  mkdir -p "$bake_dir"
  : > "$bake_dir/zero"
  baseline_p99=null
  if [ -n "$old_port" ] && metrics_snapshot "$old_port" "$bake_dir/baseline"; then
    read -r _ _ _ _ baseline_p99 _ _ < <(bake_eval "$bake_dir/zero" "$bake_dir/baseline" 0)
    say "baseline: $old_version answers with p99 ${baseline_p99} s over its lifetime"
  else
    say "baseline: no metrics from ${old_version:-a previous release}; the latency limit is the floor, ${bake_latency_floor} s"
  fi
  for path in "${probe_paths[@]}"; do
    "$curl" -s -o /dev/null --max-time 10 "http://127.0.0.1:$green_port$path" 2>/dev/null || true
  done
  metrics_snapshot "$green_port" "$bake_dir/start" || reject_green "cannot read $metrics_path for the bake ($snapshot_error)"
}

# A bounded burst of synthetic requests straight to the new release, cycling over the probe paths.
bake_probe() {
  local i=0 code
  while [ "$i" -lt "$bake_probes" ]; do
    code=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 5 \
      "http://127.0.0.1:$green_port${probe_paths[$((probe_next % ${#probe_paths[@]}))]}" 2>/dev/null) || true
    probe_next=$((probe_next + 1))
    probe_sent=$((probe_sent + 1))
    case "$code" in ''|000) probe_unanswered=$((probe_unanswered + 1)) ;; esac
    i=$((i + 1))
  done
}

# Samples every interval until the bake time is over; the first breach switches back at once.
bake_watch() {
  local started now next tick=0 state req err rate p95 p99 limit verdict
  probe_next=0 probe_sent=0 probe_unanswered=0
  if [ -z "$old_name" ]; then
    say "bake skipped: $release_version is the first release on $env_name, so there is nothing to roll back to"
    emit '{"kind":"bake","verdict":"skipped"}'
    return 0
  fi
  if [ "$("$docker" inspect --format '{{.State.Running}}' "$old_name" 2>/dev/null)" != true ]; then
    say "bake skipped: $old_name ($old_version) is not running, so there is nothing to roll back to"
    emit '{"kind":"bake","verdict":"skipped"}'
    return 0
  fi
  started=$switched_ms
  say "baking $release_version for $((bake_ms / 1000)) s: 5xx rate <= $bake_max_error_rate, p99 <= max(${bake_latency_ratio} x ${baseline_p99} s, ${bake_latency_floor} s), sampled every $(ms_text "$bake_interval_ms") s"
  while :; do
    [ "$bake_probes" -eq 0 ] || bake_probe
    tick=$((tick + 1))
    next=$((started + tick * bake_interval_ms))
    [ "$next" -le "$((started + bake_ms))" ] || next=$((started + bake_ms))
    now=$(date +%s%3N)
    if [ "$now" -lt "$next" ]; then sleep "$(ms_text $((next - now)))"; fi
    state=$("$docker" inspect --format '{{.State.Status}} {{.RestartCount}}' "$green_name" 2>/dev/null) || state='missing 0'
    [ "$state" = 'running 0' ] || bake_rollback process "its process stopped or restarted (container $state)"
    metrics_snapshot "$green_port" "$bake_dir/now" || bake_rollback metrics "cannot read $metrics_path ($snapshot_error)"
    read -r req err rate p95 p99 limit verdict < <(bake_eval "$bake_dir/start" "$bake_dir/now" "$probe_unanswered") ||
      bake_rollback metrics "the samples of $metrics_path could not be evaluated"
    now=$(date +%s%3N)
    bake_result="\"requests\":$req,\"errors\":$err,\"error_rate\":$rate,\"max_error_rate\":$bake_max_error_rate,\"p95\":$p95,\"p99\":$p99,\"p99_limit\":$limit,\"baseline_p99\":$baseline_p99,\"probes\":$probe_sent,\"seconds\":$(ms_text $((now - started)))"
    say "bake: $(ms_text $((now - started)))/$((bake_ms / 1000)) s, $req requests, $err 5xx ($rate), p99 $p99 s (limit $limit s)"
    case "$verdict" in
      error-rate) bake_rollback error-rate "5xx rate $rate > limit $bake_max_error_rate ($err of $req requests)" ;;
      latency) bake_rollback latency "p99 $p99 s > limit $limit s (max of ${bake_latency_ratio} x previous p99 $baseline_p99 s and floor ${bake_latency_floor} s)" ;;
    esac
    [ "$next" -lt "$((started + bake_ms))" ] || break
  done
  if [ "$verdict" = wait ]; then
    say "bake: only $req requests in $((bake_ms / 1000)) s (fewer than $bake_min_requests); passing without a verdict on rates"
  fi
  emit "{\"kind\":\"bake\",\"verdict\":\"pass\",$bake_result}"
  say "$release_version passed the bake on $env_name"
  rm -rf "$bake_dir"
}
ms_text() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# bake_rollback RULE REASON: the breach. The previous release (still running, in maint) takes the traffic again
# through the runtime API, the current file returns to it, the history records both the failed bake and the
# rollback, and the new release is drained, shown (log tail) and removed. Exits non-zero with a one-line reason.
bake_rollback() {
  local rule="$1" reason="$2" bad_version="$release_version" rolled_ms req err rate p95 p99 limit verdict
  acquire_lock "$proxy_lock_dir" 'the proxy' "bake rollback of $env_name to $old_version" 60
  write_proxy_fragment "$old_slot" "$old_port" "$green_port" "$old_version"
  proxy_set "set server $backend/$old_slot state ready"
  proxy_set "set server $backend/$green_slot state drain"
  mv -f "$previous_file" "$current_file"
  sed -i "s/^since=.*/since=$(now_utc)/" "$current_file"
  release_lock "$proxy_lock_dir"
  rolled_ms=$(date +%s%3N)
  say "$env_name serves $old_version again, $(ms_text $((rolled_ms - switched_ms))) s after the switch"
  record_release bake-failed "$reason"
  record_return "bake of $bad_version failed: $reason"
  wait_sessions "$green_slot"
  ( proxy_set "set server $backend/$green_slot state maint" quiet ) || true
  # Counted once its last requests have ended (the drain), so the report holds every answer the bad release gave,
  # including those after the last sample and those still in flight at the switch back.
  if metrics_snapshot "$green_port" "$bake_dir/final"; then
    read -r req err rate p95 p99 limit verdict < <(bake_eval "$bake_dir/start" "$bake_dir/final" "$probe_unanswered")
    bake_result="\"requests\":$req,\"errors\":$err,\"error_rate\":$rate,\"max_error_rate\":$bake_max_error_rate,\"p95\":$p95,\"p99\":$p99,\"p99_limit\":$limit,\"baseline_p99\":$baseline_p99,\"probes\":$probe_sent"
  fi
  emit "{\"kind\":\"bake\",\"verdict\":\"fail\",\"rule\":\"$rule\",\"reason\":$(json_str "$reason"),\"rolled_back_to\":$(json_str "$old_version"),\"rollback_ms\":$((rolled_ms - switched_ms)),${bake_result:+$bake_result,}\"seconds\":$(ms_text $((rolled_ms - switched_ms)))}"
  say "last log lines of $green_name:"
  "$docker" logs --tail 20 "$green_name" 2>&1 | sed 's/^/    | /' || true
  "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
  rm -rf "$bake_dir"
  fail "$release_version failed the bake on $env_name: $reason; rolled back to $old_version"
}

# record_return REASON: the history line of the release that serves again (the current file's), as a rollback.
record_return() {
  local release_version release_digest release_image release_commit green_name="$old_name"
  release_version=$(field "$current_file" version)
  release_digest=$(field "$current_file" digest)
  release_image=$(field "$current_file" image)
  release_commit=$(field "$current_file" commit)
  record_release rollback "$1"
}
