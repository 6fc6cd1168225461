#!/usr/bin/env bash
# Image build and push efficiency, in a temporary clone that pushes as $IMAGE_NAME (default bench-webapp) to the
# shared local registry, so the real work tree and the real `webapp` tags are untouched:
#   (a) a no-change rebuild: the second of two `./build.sh DockerBuild` runs, its seconds, that its publish mirror
#       copied nothing (an incremental build) and that it gives the same image id (the build assembles the image
#       itself, so there is no engine layer cache to count: the same inputs must give the same id);
#   (b) a one-line change to a page pushes only the app layer: bytes pushed for the first tag (goal <= MAX_PUSH_MB);
#   (c) the image size (docker image inspect).
# Exits 1 when a goal is missed.       bash bench/image.sh        MAX_PUSH_MB=20 KEEP=1 bash bench/image.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MAX_PUSH_MB="${MAX_PUSH_MB:-20}"
REGISTRY_URL="http://127.0.0.1:5000"

WORK="$(mktemp -d /tmp/bench-image.XXXXXX)"
CLONE="$WORK/repo"
# This run's own publish mirror (the default one is shared by every build on the machine).
CANONICAL="$WORK/canonical-source"
cleanup() {
  local tag
  # Untag what this run built (an image still used by a container stays), then drop the clone.
  for tag in ${BUILT_TAGS:-}; do docker image rm "127.0.0.1:5000/$IMAGE_NAME:$tag" >/dev/null 2>&1 || true; done
  if [[ -n "${KEEP:-}" ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Compressed layer sizes of <tag> in the registry, one "digest size" per line (nothing when the tag is absent).
registry_layers() {
  curl -fs -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "$REGISTRY_URL/v2/$IMAGE_NAME/manifests/$1" | jq -r '.layers[] | "\(.digest) \(.size)"' 2>/dev/null || true
}

note "cloning $ROOT into $CLONE ($BENCH_SOURCE)…"
bench_clone "$CLONE"

# (a) Two DockerBuild runs; the first warms the clone and the mirror (build project, npm, restore, publish), the
# second is measured.
note "(a) ./build.sh DockerBuild, twice…"
build_in "$CLONE" "$WORK/build1.log" DockerBuild --image-name "$IMAGE_NAME" --canonical-source-directory "$CANONICAL"
id1="$(jq -r .imageId "$CLONE/artifacts/image-build.json")"
start=$(now_ms)
build_in "$CLONE" "$WORK/build2.log" DockerBuild --image-name "$IMAGE_NAME" --canonical-source-directory "$CANONICAL"
wall2=$(($(now_ms) - start))
id2="$(jq -r .imageId "$CLONE/artifacts/image-build.json")"
BUILT_TAGS="$(jq -r '.tags[]' "$CLONE/artifacts/image-build.json" | tr '\n' ' ')"
# Publish logs "Building from <mirror>: N files copied, N deleted, N unchanged".
mirror2="$(sed -nE 's/^Building from [^:]+: (.*)$/\1/p' "$WORK/build2.log" | tail -1)"
copied2="$(sed -nE 's/^([0-9]+) files copied.*/\1/p' <<<"$mirror2")"
dockerbuild2="$(target_seconds "$WORK/build2.log" DockerBuild)"

echo "rebuild_dockerbuild_target_s: $dockerbuild2 (first build: $(target_seconds "$WORK/build1.log" DockerBuild))"
echo "rebuild_publish_target_s: $(target_seconds "$WORK/build2.log" Publish) (first build: $(target_seconds "$WORK/build1.log" Publish))"
echo "rebuild_build_sh_wall_s: $(seconds "$wall2")"
echo "rebuild_publish_mirror: ${mirror2:-(no 'Building from' line)}"
echo "rebuild_same_image_id: $([[ "$id1" == "$id2" ]] && echo yes || echo no) (${id2:7:12})"
goal "no-change rebuild copies nothing into the publish mirror and yields the same image id" \
  "$([[ "$copied2" == 0 && "$id1" == "$id2" ]] && echo 1 || echo 0)"

# (b) Push once, change one line of a page, push again: only the app layer should travel.
note "(b) ./build.sh Push, one-line change, ./build.sh Push…"
build_in "$CLONE" "$WORK/push1.log" Push --image-name "$IMAGE_NAME" --canonical-source-directory "$CANONICAL"
first_tag="$(jq -r '.tags[0]' "$CLONE/artifacts/image-build.json")"
registry_layers "$first_tag" >"$WORK/layers-before.txt"
marker="bench-image-$(date +%s)-$$"
changed_file="$(change_one_line "$CLONE" "$marker")"
build_in "$CLONE" "$WORK/push2.log" Push --image-name "$IMAGE_NAME" --canonical-source-directory "$CANONICAL"
BUILT_TAGS="$BUILT_TAGS $(jq -r '.tags[]' "$CLONE/artifacts/image-build.json" | tr '\n' ' ')"
registry_layers "$first_tag" >"$WORK/layers-after.txt"

summary="$(grep -E "^ +$first_tag: [0-9]+ layers, " "$WORK/push2.log" | head -1 | sed -E 's/^ +//')"
[[ -n "$summary" ]] || { note "no '$first_tag: N layers, ... MiB pushed' line in $WORK/push2.log"; exit 1; }
pushed_mib="$(sed -nE 's/.*, ([0-9.]+) MiB pushed.*/\1/p' <<<"$summary")"
pushed_bytes="$(awk -v m="$pushed_mib" 'BEGIN { printf "%.0f", m * 1048576 }')"
# Cross-check from the registry: the compressed sizes of the layers the new manifest has and the old one had not.
new_layers="$(awk 'NR == FNR { old[$1] = 1; next } !($1 in old) { n++; s += $2 } END { printf "%d %d", n, s }' \
  "$WORK/layers-before.txt" "$WORK/layers-after.txt")"

echo "change: one line of $changed_file (marker $marker)"
echo "push_first_tag: $summary"
echo "push_bytes_pushed: $pushed_bytes (${pushed_mib} MiB, 0.1 MiB resolution)"
echo "push_new_layers_in_registry: ${new_layers% *} layer(s), ${new_layers#* } bytes compressed"
goal "one-line change pushes <= $MAX_PUSH_MB MB" \
  "$(awk -v b="$pushed_bytes" -v max="$MAX_PUSH_MB" 'BEGIN { print (b <= max * 1000000) ? 1 : 0 }')"

# (c) The image's size as the engine reports it (uncompressed, all layers).
image_id="$(jq -r .imageId "$CLONE/artifacts/image-build.json")"
size="$(docker image inspect --format '{{.Size}}' "$image_id")"
layers="$(docker image inspect --format '{{len .RootFS.Layers}}' "$image_id")"
echo "image_size_bytes: $size"
echo "image_size: $(awk -v s="$size" 'BEGIN { printf "%.1f MB (%.1f MiB)", s / 1e6, s / 1048576 }'), $layers layers"

((GOALS_FAILED == 0)) || exit 1
