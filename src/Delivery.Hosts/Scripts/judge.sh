# shellcheck shell=bash
# The paired bake judge. While a new release bakes, the previous one stays warm out of rotation; each probe goes to
# both containers directly, in random order, and one line per pair is recorded:
#   OLD_SECONDS OLD_CODE NEW_SECONDS NEW_CODE
# The judge compares the two sides of the same requests, taken at the same moment on the same host, so it needs no
# baseline measured earlier on other traffic, and works on zero user traffic.
#
# Latency: one-sided Mann-Whitney U tests (Wilcoxon rank-sum; normal approximation with tie and continuity
# corrections) of the new latencies against the previous ones, with judge_tolerance the slowdown we tolerate. As in
# Kayenta's MannWhitneyClassifier the confidence level is a parameter (default 0.95) and a significant result also
# needs an effect that large. The bake looks after every judge_step pairs and stops at the first confident verdict,
# so every look tests at judge_alpha, the nominal level of a Pocock group-sequential boundary for the most looks the
# probe budget allows (computed by PairedJudge): over all the looks together a false verdict stays below
# 1 - judge_confidence.
# Errors (5xx or no answer): an exact binomial test on the discordant pairs (exact McNemar): under "both err alike"
# the pairs where only the new release erred are Binomial(discordant, 1/2).
#
# Variables (from the rendered header): judge_confidence, judge_tolerance, judge_min_pairs, judge_alpha, judge_step,
# judge_streams, probe_paths, curl.

judge_next=0

# judge_round OLD_PORT NEW_PORT PAIRS_FILE [PAIRS]: PAIRS (default judge_step) pairs, from judge_streams curl processes
# at once, each pairing its requests one after the other in random order (the order is drawn here, before the streams
# start). The paths take turns over probe_paths, one per pair. A request that got no answer is code 000.
judge_round() {
  local old="http://127.0.0.1:$1" new="http://127.0.0.1:$2" file="$3" left="${4:-$judge_step}" per s i path order
  local -a args streams=()
  per=$(((left + judge_streams - 1) / judge_streams))
  for ((s = 1; s <= judge_streams && left > 0; s++)); do
    args=() order=""
    for ((i = 0; i < per && left > 0; i++, left--)); do
      path=${probe_paths[$((judge_next % ${#probe_paths[@]}))]}
      judge_next=$((judge_next + 1))
      if ((RANDOM % 2)); then
        order+=n args+=(-o /dev/null "$new$path" -o /dev/null "$old$path")
      else
        order+=o args+=(-o /dev/null "$old$path" -o /dev/null "$new$path")
      fi
    done
    { "$curl" -s --max-time 5 -w '%{http_code} %{time_total}\n' "${args[@]}" 2>/dev/null || true; } |
      awk -v order="$order" '
        { code[NR] = $1 == "" ? "000" : $1; secs[NR] = $2 == "" ? 5 : $2 }
        END {
          for (j = 1; j <= length(order); j++) {
            a = 2 * j - 1; b = 2 * j
            if (!(a in code)) { code[a] = "000"; secs[a] = 5 }
            if (!(b in code)) { code[b] = "000"; secs[b] = 5 }
            if (substr(order, j, 1) == "o") printf "%s %s %s %s\n", secs[a], code[a], secs[b], code[b]
            else printf "%s %s %s %s\n", secs[b], code[b], secs[a], code[a]
          }
        }' > "$file.$s" &
    streams+=($!)
  done
  [ "${#streams[@]}" -eq 0 ] || wait "${streams[@]}"
  for ((s = 1; s <= ${#streams[@]}; s++)); do
    cat "$file.$s" >> "$file"
    rm -f "$file.$s"
  done
}

# judge_pairs PAIRS_FILE FINAL: the verdict on the pairs so far; FINAL=1 on the last look of the bake. Prints
#   VERDICT PAIRS U Z P_SLOWER P_WITHIN OLD_MEDIAN_MS NEW_MEDIAN_MS OLD_ERRORS NEW_ERRORS P_ERRORS ALPHA
# VERDICT: slower or errors (fail), pass, wait (not confident yet), none (too few pairs by the end: no verdict),
# inconclusive (enough pairs, but not confident either way by the end: not shown slower, so not a rollback).
# U, Z and P_SLOWER test "the new release is slower" (no shift); P_WITHIN tests "it is less than 1 + tolerance times
# slower". A release fails as slower when the first is significant and its median is beyond the tolerated shift (an
# effect size, as Kayenta pairs significance with one); it passes early when the second is significant.
judge_pairs() {
  local scale
  scale=$(awk -v t="$judge_tolerance" 'BEGIN { printf "%.6f", 1 + t }')
  # Pairs where both answered: the new latency (n), the previous one (o) and the previous one scaled (t).
  LC_ALL=C awk -v scale="$scale" 'NF == 4 && $2 != "000" && $4 != "000" { printf "%.9f n\n%.9f o\n%.9f t\n", $3, $1, $1 * scale }' "$1" |
    LC_ALL=C sort -g |
    LC_ALL=C awk -v scale="$scale" -v alpha="$judge_alpha" -v min="$judge_min_pairs" \
        -v final="$2" '
      function failed(code) { return code == "000" || code ~ /^5/ }
      # Upper tail of the standard normal, Q(z) = erfc(z / sqrt 2) / 2, with the Chebyshev fit of erfc
      # (fractional error below 1.2e-7 everywhere, so tiny p-values stay meaningful).
      function upper(z,   x, t, e) {
        x = (z < 0 ? -z : z) / sqrt(2); t = 1 / (1 + 0.5 * x)
        e = t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + \
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
        return z >= 0 ? e / 2 : 1 - e / 2
      }
      # Mann-Whitney U of the new sample against sample c ("o" or "t"), from the one sorted list: average ranks for
      # ties, the tie-corrected variance, and both one-sided p-values with a continuity correction.
      function mann_whitney(c,   i, j, k, m, r, t, T, rank_new, var, sd) {
        m = 0
        for (i = 1; i <= N; i++) if (g[i] == "n" || g[i] == c) { m++; w[m] = v[i]; h[m] = g[i] }
        r = 1
        while (r <= m) {
          j = r
          while (j < m && w[j + 1] == w[r]) j++
          t = j - r + 1; T += t * t * t - t
          for (k = r; k <= j; k++) if (h[k] == "n") rank_new += (r + j) / 2
          r = j + 1
        }
        U = rank_new - nn * (nn + 1) / 2
        var = m > 1 ? nn * nn / 12 * ((m + 1) - T / (m * (m - 1))) : 0
        if (var <= 0) { Z = 0; P_GREATER = 1; P_LESS = 1; return }
        sd = sqrt(var); Z = (U - nn * nn / 2) / sd
        P_GREATER = upper((U - nn * nn / 2 - 0.5) / sd)
        P_LESS = 1 - upper((U - nn * nn / 2 + 0.5) / sd)
      }
      # P(X >= k) for X ~ Binomial(n, 1/2), summed in log space so that large n does not underflow.
      function binomial_tail(k, n,   i, lt, p) {
        if (k <= 0) return 1
        lt = -n * log(2); p = 0
        for (i = 1; i <= n; i++) { lt += log((n - i + 1) / i); if (i >= k) p += exp(lt) }
        return p > 1 ? 1 : p
      }
      function median(a, m) { return m == 0 ? -1 : (m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2) }
      function ms(x) { return x < 0 ? "null" : sprintf("%.3f", x * 1000) }
      FILENAME == ARGV[1] {
        if (NF != 4) next
        pairs++
        oe = failed($2); ne = failed($4)
        old_errors += oe; new_errors += ne
        if (ne && !oe) only_new++
        if (oe && !ne) only_old++
        next
      }
      { v[++N] = $1; g[N] = $2; if ($2 == "n") nv[++nn] = $1; else if ($2 == "o") ov[++no] = $1 }
      END {
        mann_whitney("t"); p_within = P_LESS
        mann_whitney("o"); p_slower = P_GREATER
        old_median = median(ov, no); new_median = median(nv, nn)
        p_errors = binomial_tail(only_new, only_new + only_old)
        if (pairs < min) verdict = final ? "none" : "wait"
        else if (p_errors < alpha) verdict = "errors"
        else if (nn < min) verdict = final ? "none" : "wait"
        else if (p_slower < alpha && new_median >= old_median * scale) verdict = "slower"
        # A release that erred more often than the previous one does not pass early: the whole window decides.
        else if (p_within < alpha && only_new <= only_old) verdict = "pass"
        else verdict = final ? "inconclusive" : "wait"
        printf "%s %d %.1f %.3f %.3g %.3g %s %s %d %d %.3g %.3g\n", verdict, pairs, U, Z, p_slower, p_within,
          ms(old_median), ms(new_median), old_errors, new_errors, p_errors, alpha
      }' "$1" -
}

# judge_describe FIELDS...: one line for the log from judge_pairs' fields.
judge_describe() {
  local verdict="$1" pairs="$2" u="$3" z="$4" p_slower="$5" p_within="$6" old_ms="$7" new_ms="$8" old_err="$9"
  local new_err="${10}" p_err="${11}" alpha="${12}" shift_text
  shift_text=$(awk -v t="$judge_tolerance" 'BEGIN { printf "%g%%", t * 100 }')
  local facts
  facts=$(awk -v n="$pairs" -v ne="$new_err" -v oe="$old_err" -v nm="$new_ms" -v om="$old_ms" 'BEGIN {
    printf "median %s ms (new) vs %s ms (previous), error rate %.1f%% (new, %d/%d) vs %.1f%% (previous, %d/%d), %d pairs",
      nm, om, n ? 100 * ne / n : 0, ne, n, n ? 100 * oe / n : 0, oe, n, n }')
  case "$verdict" in
    slower) printf 'slower than the previous release, beyond the tolerated %s: Mann-Whitney U=%s, z=%s, p=%s < %s; %s\n' "$shift_text" "$u" "$z" "$p_slower" "$alpha" "$facts" ;;
    errors) printf 'errs more often than the previous release: exact test on discordant pairs p=%s < %s; %s\n' "$p_err" "$alpha" "$facts" ;;
    pass) printf 'not slower than the previous release beyond %s: Mann-Whitney U=%s, z=%s, p(slower)=%s, p(beyond %s)=%s; %s\n' "$shift_text" "$u" "$z" "$p_slower" "$shift_text" "$p_within" "$facts" ;;
    none) printf 'no verdict: %s pairs, fewer than the %s the judge needs; %s\n' "$pairs" "$judge_min_pairs" "$facts" ;;
    inconclusive) printf 'no confident verdict by the end of the bake: Mann-Whitney U=%s, z=%s, p(slower)=%s, p(beyond %s)=%s, both above %s; %s\n' "$u" "$z" "$p_slower" "$shift_text" "$p_within" "$alpha" "$facts" ;;
    *) printf 'not confident yet: Mann-Whitney U=%s, z=%s, p(slower)=%s, p(beyond %s)=%s, alpha %s; %s\n' "$u" "$z" "$p_slower" "$shift_text" "$p_within" "$alpha" "$facts" ;;
  esac
}
