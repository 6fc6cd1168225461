#!/usr/bin/env bash
# Deploy speed on local staging (:8081), from a temporary clone that pushes as $IMAGE_NAME (default bench-webapp):
#   (a) redeploying an image that is already pushed: two versions (VERSION_BASE-redeploy.1 and .2) are built and
#       deployed once, then REDEPLOYS `./build.sh DeployStaging --skip` runs alternate between their recorded
#       artifacts/image.json; each prints its wall time, the deploy's own "in X s" and "switch N ms", and apart
#       command -> switched (wall clock less what follows the switch) and switched -> verdict (record, drain and bake:
#       the bake ends at the paired judge's confident verdict, the staging window at the latest), with the judge's line
#       (goals: every redeploy <= MAX_REDEPLOY_S, wall clock; every switched -> verdict <= MAX_VERDICT_S);
#   (b) a one-line change to serving on staging with warm caches: after a warm-up deploy of the clone, one line of
#       the home page changes and `./build.sh DeployStaging` runs until `curl 127.0.0.1:8081/` shows it
#       (goal <= MAX_CHANGE_S).
# Staging is then restored with `./build.sh DeployStaging` in the work tree. Exits 1 when a goal is missed.
#   bash bench/redeploy.sh        REDEPLOYS=4 MAX_REDEPLOY_S=10 MAX_VERDICT_S=10 MAX_CHANGE_S=60 bash bench/redeploy.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REDEPLOYS="${REDEPLOYS:-2}"
MAX_REDEPLOY_S="${MAX_REDEPLOY_S:-10}"
MAX_VERDICT_S="${MAX_VERDICT_S:-10}"
MAX_CHANGE_S="${MAX_CHANGE_S:-60}"
VERSION_BASE="${VERSION_BASE:-0.0.1}"

WORK="$(mktemp -d /tmp/bench-redeploy.XXXXXX)"
CLONE="$WORK/repo"
TOUCHED=""
cleanup() {
  local rc=$?
  if [[ -n "$TOUCHED" ]]; then restore_staging "$CLONE" "$WORK/restore.log" || rc=1; fi
  if [[ -n "${KEEP:-}" ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT

# phase_ms <deploy line> <phase>: one phase's milliseconds from the deploy's timings, 0 when it did not run.
phase_ms() { local ms; ms=$(sed -nE "s/.*[(,] ?$2 ([0-9]+) ms.*/\1/p" <<<"$1"); echo "${ms:-0}"; }

deploy_from_clone() { build_in "$CLONE" "$1" DeployStaging --state-directory "$HOST_STATE" --lock-wait "$LOCK_WAIT" "${@:2}"; }

remember_staging
note "cloning $ROOT into $CLONE ($BENCH_SOURCE)…"
bench_clone "$CLONE"

# (a) Two pushed versions, each deployed once (untimed), then timed --skip redeploys alternating between them.
note "(a) building and deploying $VERSION_BASE-redeploy.1 and .2…"
TOUCHED=1
for k in 1 2; do
  # The same state folder as the deploys: Push signs with the key there, and the deploys verify against it.
  build_in "$CLONE" "$WORK/push$k.log" Push --state-directory "$HOST_STATE" --image-name "$IMAGE_NAME" --version-override "$VERSION_BASE-redeploy.$k"
  cp "$CLONE/artifacts/image.json" "$WORK/image$k.json"
  deploy_from_clone "$WORK/first-deploy$k.log" --skip
done
note "(a) $REDEPLOYS timed redeploys with --skip…"
worst=0
worst_verdict=0
for ((i = 1; i <= REDEPLOYS; i++)); do
  k=$(((i - 1) % 2 + 1))
  cp "$WORK/image$k.json" "$CLONE/artifacts/image.json"
  start=$(now_ms)
  deploy_from_clone "$WORK/redeploy$i.log" --skip
  wall=$(($(now_ms) - start))
  ((wall > worst)) && worst=$wall
  line="$(deploy_line "$WORK/redeploy$i.log")"
  echo "redeploy_$i: wall $(seconds "$wall") s, deploy $(deploy_total_s "$line") s, switch $(deploy_switch_ms "$line") ms (${line%% on :*})"
  # After the switch: record, drain (the previous release quiesces), bake (to its verdict), stop, prune.
  to_verdict=$(( $(phase_ms "$line" record) + $(phase_ms "$line" drain) + $(phase_ms "$line" bake) ))
  after=$(( to_verdict + $(phase_ms "$line" stop) + $(phase_ms "$line" prune) ))
  echo "redeploy_$i: command_to_switched $(seconds $((wall - after))) s, switched_to_verdict $(seconds "$to_verdict") s"
  ((to_verdict > worst_verdict)) && worst_verdict=$to_verdict
  echo "redeploy_$i: $(grep -E '^ *(judge: |.* passed the bake on staging after )' "$WORK/redeploy$i.log" | sed 's/^ *//' | paste -sd ' ' -)"
done
echo "redeploy_worst_wall_s: $(seconds "$worst")"
echo "redeploy_worst_switched_to_verdict_s: $(seconds "$worst_verdict")"
goal "switched -> bake verdict of a good redeploy <= $MAX_VERDICT_S s (worst of $REDEPLOYS)" \
  "$((worst_verdict <= MAX_VERDICT_S * 1000 ? 1 : 0))"
goal "redeploy of a pushed image <= $MAX_REDEPLOY_S s (worst of $REDEPLOYS, wall clock of ./build.sh DeployStaging --skip)" \
  "$((worst <= MAX_REDEPLOY_S * 1000 ? 1 : 0))"

# (b) Warm-up: a normal build and deploy of the clone (build project, npm, restore, compile, image cache).
note "(b) warm-up deploy of the clone, then a one-line change…"
deploy_from_clone "$WORK/warmup.log" --image-name "$IMAGE_NAME"
marker="bench-redeploy-$(date +%s)-$$"
changed_file="$(change_one_line "$CLONE" "$marker")"
start=$(now_ms)
deploy_from_clone "$WORK/change.log" --image-name "$IMAGE_NAME"
deployed=$(($(now_ms) - start))
seen=""
for ((i = 0; i < 300; i++)); do
  if curl -fs --max-time 2 "$STAGING_URL/" | grep -qF "$marker"; then seen=$(($(now_ms) - start)); break; fi
  sleep 0.1
done
[[ -n "$seen" ]] || { note "staging did not show '$marker' within 30 s of the deploy"; seen=999999; }

echo "change: one line of $changed_file (marker $marker)"
for t in Publish DockerBuild SmokeTest Push DeployStaging; do echo "change_target_${t}_s: $(target_seconds "$WORK/change.log" "$t")"; done
echo "change_deploy: $(deploy_line "$WORK/change.log")"
echo "change_build_sh_wall_s: $(seconds "$deployed")"
echo "change_to_serving_s: $(seconds "$seen")"
goal "one-line change serving on staging <= $MAX_CHANGE_S s (warm caches)" "$((seen <= MAX_CHANGE_S * 1000 ? 1 : 0))"
((GOALS_FAILED == 0)) || exit 1
