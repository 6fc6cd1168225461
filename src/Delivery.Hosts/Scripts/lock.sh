# shellcheck shell=bash
# A lock is a directory that appears atomically (rename of a prepared directory, holder file included), so no
# reader ever sees a lock without its holder. The holder's host, PID and PID start time let a later run prove the
# holder dead (SIGKILL, reboot) and take the lock over, saying so.
# needs: lib/output.sh lib/host.sh

lock_holder() {
  local f="$1/holder"
  if [ ! -f "$f" ]; then printf 'an unknown holder (%s has no holder file)' "$1"; return 0; fi
  printf '%s by %s on %s (pid %s) since %s' "$(field "$f" what)" "$(field "$f" user)" "$(field "$f" host)" "$(field "$f" pid)" "$(field "$f" since)"
}

# Sets stale_id to the holder's pid/start time when the holder ran on this host and is gone.
lock_is_stale() {
  local f="$1/holder" pid
  [ -f "$f" ] || return 1
  [ "$(field "$f" host)" = "$(uname -n)" ] || return 1
  pid=$(field "$f" pid)
  [ -n "$pid" ] || return 1
  stale_id="$pid/$(field "$f" pidstart)"
  if pid_alive "$pid" && [ "$(pid_start "$pid")" = "$(field "$f" pidstart)" ]; then return 1; fi
  return 0
}

# Moves the stale lock aside; if a live holder took it in the meantime, puts that one back.
take_over_lock() {
  local aside="$1.stale.$$"
  mv -T "$1" "$aside" 2>/dev/null || return 0
  if [ "$(field "$aside/holder" pid)/$(field "$aside/holder" pidstart)" != "$stale_id" ]; then
    mv -T "$aside" "$1" 2>/dev/null || true
    return 0
  fi
  rm -rf "$aside"
}

# acquire_lock DIR LABEL WHAT WAIT_SECONDS: the holder is this script's own process ($$).
acquire_lock() {
  local dir="$1" label="$2" what="$3" deadline mine="$1.$$" holder
  deadline=$(( $(date +%s) + $4 ))
  mkdir -p "$(dirname "$dir")"
  rm -rf "$mine"
  mkdir "$mine"
  printf 'what=%s\nuser=%s\nhost=%s\npid=%s\npidstart=%s\nsince=%s\n' "$what" "$deployed_by" "$(uname -n)" "$$" "$(pid_start $$)" "$(now_utc)" > "$mine/holder"
  while ! mv -T "$mine" "$dir" 2>/dev/null; do
    if lock_is_stale "$dir"; then
      say "stale lock on $label from $(lock_holder "$dir") (pid ${stale_id%%/*} is gone); taking it over"
      take_over_lock "$dir"
      continue
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      holder=$(lock_holder "$dir")
      # Released between the attempt and the read: the lock is free, so try again at once.
      [ -d "$dir" ] || continue
      rm -rf "$mine"
      fail "$label is locked by $holder; try again later, wait with --lock-wait <seconds>, or force-unlock it if that process is gone"
    fi
    sleep 1
  done
}

# Releases only a lock this script holds; safe to call from the exit trap whatever happened.
release_lock() {
  local gone="$1.released.$$"
  [ -f "$1/holder" ] || return 0
  if [ "$(field "$1/holder" pid)" != "$$" ] || [ "$(field "$1/holder" host)" != "$(uname -n)" ]; then return 0; fi
  mv -T "$1" "$gone" 2>/dev/null || return 0
  rm -rf "$gone"
}

# force_unlock DIR LABEL
force_unlock() {
  if [ ! -d "$1" ]; then say "$2 is not locked"; return 0; fi
  say "removing the lock on $2 held by $(lock_holder "$1")"
  mv -T "$1" "$1.forced.$$"
  rm -rf "$1.forced.$$"
}

# The exit trap of every plan: release whatever locks this script holds (also on INT/TERM, which exit through it).
on_exit() {
  local status=$?
  set +e
  # A second signal (a repeated Ctrl-C, or SSM's cancel reaching both the wrapper and the script) must not cut
  # the cleanup short before the locks are released.
  trap '' INT TERM
  release_held_locks
  exit "$status"
}

release_held_locks() {
  release_lock "${proxy_lock_dir:-}"
  release_lock "${lock_dir:-}"
}
