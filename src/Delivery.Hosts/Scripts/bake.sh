# shellcheck shell=bash
# The bake: after the switch the previous release stays running out of rotation (HAProxy maint) while the paired
# judge (judge.sh) probes both side by side, and the new one's own /metrics, read straight from its container port
# with curl and reduced with awk (nothing but the host's tools, so it runs the same through SSM), is the safety rail.
# A breach is another runtime-API switch back. Counters are cumulative, so every rails sample is a difference between
# a snapshot taken just before the switch and the latest one; the new release's cold requests (warm-up probes) fall
# before that first snapshot.
# needs: lib/output.sh lib/host.sh lock.sh proxy.sh container.sh health.sh release.sh judge.sh

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

# bake_eval START NOW EXTRA_FAILED [FINAL]: what happened between two snapshots, judged. Prints
# "REQUESTS ERRORS RATE P95 P99 LIMIT VERDICT"; quantiles interpolate within histogram buckets as Prometheus'
# histogram_quantile does, and the latency limit is max(ratio x baseline p99, floor). Probe requests that got no
# HTTP answer at all never reach the release's counters, so they are added as failed requests. Under the minimum
# sample the rates wait for more requests, except in the FINAL sample (1: the bake ends after it): there, errors that
# breach the limit even if the rest of the minimum had succeeded fail (3 of 9 must not pass a 1 % limit because the
# users sent too few).
bake_eval() {
  awk -v extra="$3" -v final="${4:-0}" -v base="${baseline_p99:-null}" -v max_err="$bake_max_error_rate" -v ratio="$bake_latency_ratio" \
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
      if (req < min) verdict = (final == 1 && err > max_err * min ? "error-rate" : "wait")
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

# bake_rails [FINAL]: one sample of the safety rails (the new container still running unrestarted, its /metrics' 5xx
# rate and p99 against their limits); a breach rolls back. Probe requests that got no answer count as failed requests.
# FINAL=1 when the bake ends after this sample (bake_eval).
bake_rails() {
  local state now unanswered=0
  state=$("$docker" inspect --format '{{.State.Status}} {{.RestartCount}}' "$green_name" 2>/dev/null) || state='missing 0'
  [ "$state" = 'running 0' ] || bake_rollback process "its process stopped or restarted (container $state)"
  metrics_snapshot "$green_port" "$bake_dir/now" || bake_rollback metrics "cannot read $metrics_path ($snapshot_error)"
  [ ! -f "$bake_dir/pairs" ] || unanswered=$(awk '$4 == "000" { n++ } END { print n + 0 }' "$bake_dir/pairs")
  probe_unanswered=$unanswered
  read -r req err rate p95 p99 limit verdict < <(bake_eval "$bake_dir/start" "$bake_dir/now" "$probe_unanswered" "${1:-0}") ||
    bake_rollback metrics "the samples of $metrics_path could not be evaluated"
  now=$(date +%s%3N)
  rails_result="\"requests\":$req,\"errors\":$err,\"error_rate\":$rate,\"max_error_rate\":$bake_max_error_rate,\"p95\":$p95,\"p99\":$p99,\"p99_limit\":$limit,\"baseline_p99\":$baseline_p99"
  say "bake: $(ms_text $((now - switched_ms)))/$((bake_ms / 1000)) s, $req requests, $err 5xx ($rate), p99 $p99 s (limit $limit s), $pairs pairs"
  case "$verdict" in
    error-rate) bake_rollback error-rate "5xx rate $rate > limit $bake_max_error_rate ($err of $req requests)" ;;
    latency) bake_rollback latency "p99 $p99 s > limit $limit s (max of ${bake_latency_ratio} x previous p99 $baseline_p99 s and floor ${bake_latency_floor} s)" ;;
  esac
  rails_verdict=$verdict
}

# The bake: rounds of paired probes (judge.sh) and a look after each, until the judge is confident or the bake time
# is over; the rails are sampled every interval and once more before an early pass. A judge verdict of "slower" or
# "errors" rolls back with the judge's line as the reason. Only a confident pass ends the bake early: when the probe
# budget is spent first, or the judge had too few pairs ("no verdict") or no confident answer, that is logged, and
# the rails alone watch until the bake time is over. With a probe budget of 0 the rails alone watch the whole window.
bake_watch() {
  local started deadline now next next_rails look_at=$judge_step at_end final judging=0 req err rate p95 p99 limit verdict
  local judge_verdict=off judge_line="" rails_verdict=wait rails_result="" pairs=0 round_done
  round_pid=""
  local -a judged
  probe_unanswered=0
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
  deadline=$((started + bake_ms))
  next_rails=$((started + bake_interval_ms))
  : > "$bake_dir/pairs"
  if [ "$judge_budget" -gt 0 ]; then
    judging=1
    say "baking $release_version for up to $((bake_ms / 1000)) s: paired judge against $old_version (confidence $judge_confidence, tolerated shift $judge_tolerance, at most $judge_budget pairs); rails: 5xx rate <= $bake_max_error_rate, p99 <= max(${bake_latency_ratio} x ${baseline_p99} s, ${bake_latency_floor} s), sampled every $(ms_text "$bake_interval_ms") s"
  else
    say "baking $release_version for $((bake_ms / 1000)) s: 5xx rate <= $bake_max_error_rate, p99 <= max(${bake_latency_ratio} x ${baseline_p99} s, ${bake_latency_floor} s), sampled every $(ms_text "$bake_interval_ms") s"
  fi
  while :; do
    if [ "$judging" = 1 ] && [ -z "$round_pid" ]; then
      next=$((judge_budget - pairs))
      [ "$next" -le "$judge_step" ] || next=$judge_step
      # In the background, so that the rails keep their interval however slow the probes are.
      (
        trap end_streams TERM
        judge_round "$old_port" "$green_port" "$bake_dir/pairs" "$next"
      ) &
      round_pid=$!
      judge_next=$((judge_next + next))
    fi
    # Until the round is over, the next rails sample is due or the bake time is over.
    now=$(date +%s%3N)
    next=$next_rails
    [ "$next" -le "$deadline" ] || next=$deadline
    while [ "$now" -lt "$next" ]; do
      if [ -z "$round_pid" ]; then
        sleep "$(ms_text $((next - now)))"
      else
        kill -0 "$round_pid" 2>/dev/null || break
        sleep 0.05
      fi
      now=$(date +%s%3N)
    done
    round_done=0
    if [ -n "$round_pid" ] && ! kill -0 "$round_pid" 2>/dev/null; then
      wait "$round_pid" || true
      round_pid="" round_done=1
      pairs=$(wc -l < "$bake_dir/pairs")
    fi
    at_end=0
    [ "$now" -lt "$deadline" ] || at_end=1
    if [ "$now" -ge "$next_rails" ] || [ "$at_end" = 1 ]; then
      bake_rails "$at_end"
      while [ "$next_rails" -le "$now" ]; do next_rails=$((next_rails + bake_interval_ms)); done
    fi
    if [ "$at_end" = 1 ] && [ -n "$round_pid" ]; then
      stop_round
      pairs=$(wc -l < "$bake_dir/pairs")
    fi
    if [ "$judging" = 1 ] && { [ "$round_done" = 1 ] || [ "$at_end" = 1 ]; }; then
      final=$at_end
      [ "$pairs" -lt "$judge_budget" ] || final=1
      if [ "$pairs" -ge "$look_at" ] || [ "$final" = 1 ]; then
        while [ "$look_at" -le "$pairs" ]; do look_at=$((look_at + judge_step)); done
        read -r -a judged < <(judge_pairs "$bake_dir/pairs" "$final")
        judge_verdict=${judged[0]}
        case "$judge_verdict" in
          slower | errors) bake_rollback "$judge_verdict" "$(judge_describe "${judged[@]}")" ;;
          pass)
            [ "$at_end" = 1 ] || bake_rails 1
            judge_line=$(judge_describe "${judged[@]}")
            say "judge: $judge_line"
            break ;;
          none | inconclusive)
            judge_line=$(judge_describe "${judged[@]}")
            say "judge: $judge_line"
            [ "$at_end" = 1 ] || say "bake: the rails alone watch $release_version until the bake time is over"
            judging=0 ;;
        esac
      fi
    fi
    [ "$at_end" = 0 ] || break
  done
  now=$(date +%s%3N)
  if [ "$rails_verdict" = wait ]; then
    say "bake: only $req requests in $(ms_text $((now - started))) s (fewer than $bake_min_requests); the rails pass without a verdict on rates"
  fi
  emit "{\"kind\":\"bake\",\"verdict\":\"pass\",$rails_result,\"probes\":$((pairs * 2)),\"pairs\":$pairs,\"judge\":\"$judge_verdict\",\"judge_line\":$(json_str "$judge_line"),\"seconds\":$(ms_text $((now - started)))}"
  say "$release_version passed the bake on $env_name after $(ms_text $((now - started))) s"
  rm -rf "$bake_dir"
}
# end_streams: a round's TERM trap; its streams' processes end with it.
end_streams() {
  local stream
  for stream in $(jobs -p); do kill "$stream" 2>/dev/null || true; done
  exit 143
}

# stop_round: ends a round of paired probes still in flight (its streams too); its pairs are not counted.
stop_round() {
  [ -n "${round_pid:-}" ] || return 0
  kill "$round_pid" 2>/dev/null || true
  wait "$round_pid" 2>/dev/null || true
  round_pid=""
}
ms_text() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# bake_rollback RULE REASON: the breach. The previous release (still running, in maint) takes the traffic again
# through the runtime API, the current file returns to it, the history records both the failed bake and the
# rollback, and the new release is drained, shown (log tail) and removed. Exits non-zero with a one-line reason.
bake_rollback() {
  local rule="$1" reason="$2" bad_version="$release_version" rolled_ms req err rate p95 p99 limit verdict
  stop_round
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
    rails_result="\"requests\":$req,\"errors\":$err,\"error_rate\":$rate,\"max_error_rate\":$bake_max_error_rate,\"p95\":$p95,\"p99\":$p99,\"p99_limit\":$limit,\"baseline_p99\":$baseline_p99"
  fi
  emit "{\"kind\":\"bake\",\"verdict\":\"fail\",\"rule\":\"$rule\",\"reason\":$(json_str "$reason"),\"rolled_back_to\":$(json_str "$old_version"),\"rollback_ms\":$((rolled_ms - switched_ms)),${rails_result:+$rails_result,}\"probes\":$((${pairs:-0} * 2)),\"pairs\":${pairs:-0},\"judge\":\"${judge_verdict:-off}\",\"seconds\":$(ms_text $((rolled_ms - switched_ms)))}"
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
