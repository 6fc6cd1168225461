#!/bin/sh
# isolated-root.sh DIR COMMAND...: run by unshare --mount --propagation private, so its mounts are the new mount
# namespace's alone and vanish with it. Mounts an overlay whose lower layer is this machine's / and whose upper
# layer, DIR/upper, keeps every write from one command to the next, then execs COMMAND chrooted into it (same pid,
# so the agent's process group kill still reaches everything).
set -eu
dir=$1
shift
mkdir -p "$dir/upper" "$dir/work" "$dir/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
for shared in proc sys dev run; do mount --rbind "/$shared" "$dir/root/$shared"; done
cd /
exec chroot "$dir/root" "$@"
