#!/usr/bin/env bash
# Reproducible images: builds the same commit in two fresh clones at different paths (every file of the second
# touched to another time in between) and pushes each to its own repository of the local registry, with the first
# image removed before the second build. Prints both image ids and both pushed manifest digests; exits 1 unless
# both pairs are equal. SAME_PATH=1 builds the second clone at the first one's path instead (moved there after the
# first build), which isolates time from path. Both builds publish from one canonical source folder of this run
# (--canonical-source-directory), emptied between them, so the second build is as cold as the first.
#   bash bench/reproducible.sh        SAME_PATH=1 KEEP=1 bash bench/reproducible.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BASE_IMAGE="${BASE_IMAGE:-offline}"

WORK="$(mktemp -d /tmp/bench-reproducible.XXXXXX)"
cleanup() {
  local tag
  for tag in ${BUILT_TAGS:-}; do docker image rm "$tag" >/dev/null 2>&1 || true; done
  if [[ -n "${KEEP:-}" ]]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# build_clone <dir> <image name>: builds and pushes there; sets ID and DIGEST, and adds the tags to BUILT_TAGS.
build_clone() {
  local dir="$1" name="$2"
  build_in "$dir" "$WORK/$name.log" Push --image-name "$name" --base-image "$BASE_IMAGE" --canonical-source-directory "$CANONICAL"
  BUILT_TAGS="${BUILT_TAGS:-} $(jq -r '.repository as $r | .tags[] | "\($r):\(.)"' "$dir/artifacts/image-build.json" | tr '\n' ' ')"
  ID="$(jq -r .imageId "$dir/artifacts/image-build.json")"
  DIGEST="$(jq -r .digest "$dir/artifacts/image.json")"
}

CANONICAL="$WORK/canonical-source"
A="$WORK/a"
B="$WORK/clone-b/at/another/path"
# Both clones first, so both hold the same source whatever lands meanwhile.
note "clones in $A and $B…"
bench_clone "$A"
mkdir -p "$(dirname "$B")"
bench_clone "$B"
build_clone "$A" "$IMAGE_NAME-repro-a"
id_a="$ID" digest_a="$DIGEST"
for tag in $BUILT_TAGS; do docker image rm "$tag" >/dev/null 2>&1 || true; done
rm -rf "$CANONICAL"

if [[ -n "${SAME_PATH:-}" ]]; then
  mv "$A" "$WORK/a-built"
  mv "$B" "$A"
  B="$A"
fi
note "building in $B, every file touched to a day later…"
find "$B" -path "$B/.git" -prune -o -exec touch -h -d '+1 day' {} +
build_clone "$B" "$IMAGE_NAME-repro-b"
id_b="$ID" digest_b="$DIGEST"

echo "commit: $(git -C "$A" rev-parse HEAD)"
echo "image_id_a: $id_a"
echo "image_id_b: $id_b"
echo "pushed_digest_a: $digest_a"
echo "pushed_digest_b: $digest_b"
goal "same image id in both clones" "$([[ "$id_a" == "$id_b" ]] && echo 1 || echo 0)"
goal "same pushed manifest digest in both clones" "$([[ "$digest_a" == "$digest_b" ]] && echo 1 || echo 0)"
[[ "$GOALS_FAILED" == 0 ]]
