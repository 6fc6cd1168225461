# shellcheck shell=bash
# ConfigureHost on one host (this machine, or an EC2 instance through SSM): wait until the machine is ready for
# packages (cloud-init done, package lock free), install ansible-core when it is missing, unpack the playbook that
# came in the header and run it locally. Safe to kill at any line: nothing here is half-changed by a kill that the
# next run does not finish (dpkg --configure -a, apt's and rpm's own locks die with their holder, stale work folders
# are removed).
# needs: lib/output.sh

os_release_value() {
  sed -n "s/^$1=//p" "$os_release_file" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# Sets system_name, system_id ("id version"), package_manager and package_lock_files from os-release; any other
# system fails in one line.
detect_system() {
  local supported='Ubuntu 22.04, Ubuntu 24.04, Debian 12, Amazon Linux 2023' id version
  [ -r "$os_release_file" ] || fail "cannot configure this host: it has no $os_release_file, so its system is unknown; supported systems are $supported"
  id=$(os_release_value ID)
  version=$(os_release_value VERSION_ID)
  system_name=$(os_release_value PRETTY_NAME)
  system_name=${system_name:-$id $version}
  system_id="$id $version"
  case "$system_id" in
    'ubuntu 22.04' | 'ubuntu 24.04' | 'debian 12')
      package_manager=apt
      package_lock_files=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock) ;;
    'amzn 2023')
      package_manager=dnf
      package_lock_files=(/var/lib/rpm/.rpm.lock /usr/lib/sysimage/rpm/.rpm.lock) ;;
    *) fail "cannot configure $system_name ($id $version): supported systems are $supported" ;;
  esac
  say "system: $system_name (packages through $package_manager)"
}

# Root runs everything itself; another user needs password-less sudo (GitHub's runners), and ansible then becomes root.
check_privilege() {
  if [ "$(id -u)" = 0 ]; then
    as_root=()
    become=()
  elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
    become=(--become)
  else
    fail "ConfigureHost installs packages and writes system files: this user ($(id -un)) is not root and 'sudo -n true' fails"
  fi
}

# A fresh instance's cloud-init installs packages and holds their lock: wait for it (bounded) where it exists.
wait_cloud_init() {
  command -v cloud-init >/dev/null 2>&1 || return 0
  say "waiting for cloud-init to finish (at most $cloud_init_wait s)"
  local status=0
  timeout "$cloud_init_wait" cloud-init status --wait >/dev/null 2>&1 || status=$?
  case "$status" in
    0) ;;
    124) fail "cloud-init did not finish within $cloud_init_wait s ($(cloud-init status 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')); try again later" ;;
    *) say "cloud-init finished with errors (exit $status, see /var/log/cloud-init.log); going on" ;;
  esac
}

# Who holds the package lock, as "name (pid N: command line)", or nothing. dpkg, apt and rpm lock with fcntl, so
# /proc/locks names the holder of each lock file whatever the tool, as MAJOR:MINOR:INODE (hex, hex, decimal). The
# device counts: a container's or chroot's overlay copy of the lock has the same inode number on another device, and
# its apt-get does not hold this system's lock.
package_lock_holder() {
  local file stats dev inode id pid
  for file in "${package_lock_files[@]}"; do
    [ -e "$file" ] || continue
    stats=$(stat -L -c '%d %i' "$file")
    dev=${stats% *}
    inode=${stats#* }
    # glibc's major() and minor() of a 64-bit dev_t.
    id=$(printf '%02x:%02x:%s' $(( ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff) )) \
      $(( (dev & 0xff) | ((dev >> 12) & ~0xff) )) "$inode")
    pid=$(awk -v id="$id" '$2 != "->" && $6 == id { print $5; exit }' /proc/locks)
    [ -n "$pid" ] || continue
    printf '%s (pid %s: %s) on %s' "$(cat "/proc/$pid/comm" 2>/dev/null || echo '?')" "$pid" \
      "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ $//')" "$file"
    return 0
  done
}

# Unattended-upgrades holds the dpkg lock for minutes after a first boot: wait for it, bounded, then fail naming it.
wait_package_lock() {
  local holder waited=0
  holder=$(package_lock_holder)
  [ -n "$holder" ] || return 0
  say "waiting for the package lock, held by $holder (at most $package_lock_wait s)"
  while holder=$(package_lock_holder) && [ -n "$holder" ]; do
    [ "$waited" -lt "$package_lock_wait" ] || fail "the package lock is still held by $holder after $package_lock_wait s; try again when it is done"
    sleep 1
    waited=$((waited + 1))
  done
  say "the package lock is free after $waited s"
}

# apt and dnf wait for a lock taken after wait_package_lock looked, up to the same bound.
apt_get() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$package_lock_wait" -y -qq "$@"
}

# install_package NAME: through the system's package manager, after refreshing its lists once per run.
install_package() {
  case "$package_manager" in
    apt)
      if [ -z "${package_lists_fresh:-}" ]; then
        # A run killed mid-install leaves dpkg half-configured; this finishes it (and does nothing otherwise).
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a
        apt_get update
        package_lists_fresh=1
      fi
      apt_get install --no-install-recommends "$1" >/dev/null ;;
    dnf)
      if [ -z "${package_lists_fresh:-}" ]; then
        timeout "$package_lock_wait" "${as_root[@]}" dnf -q -y makecache
        package_lists_fresh=1
      fi
      "${as_root[@]}" dnf -q -y install "$1" >/dev/null ;;
  esac
}

ensure_ansible() {
  if command -v ansible-playbook >/dev/null 2>&1; then
    say "ansible-playbook is installed"
    return 0
  fi
  say "installing ansible-core with $package_manager"
  install_package ansible-core
  command -v ansible-playbook >/dev/null 2>&1 || fail "ansible-core was installed but ansible-playbook is not on PATH ($PATH)"
}

# Hosts that read a password registry's login from Parameter Store (registry.sh) need the AWS CLI. Amazon Linux 2023
# ships it (awscli-2); Debian 12 and Ubuntu 22.04 package it (awscli). Ubuntu 24.04 has no package, so it gets one of
# the two ways AWS's "Installing or updating to the latest version of the AWS CLI"
# (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html) gives for Linux: the snap AWS
# publishes (aws-cli, classic), which is one command, updated by snapd, and Ubuntu's EC2 images have snapd (their SSM
# agent is a snap). The other, AWS's zip installer, would need unzip, a signature check and updates of our own.
ensure_aws_cli() {
  [ "$aws_cli_needed" = true ] || return 0
  if command -v aws >/dev/null 2>&1; then
    say "the AWS CLI is installed"
    return 0
  fi
  case "$system_id" in
    'amzn 2023')
      say "installing the AWS CLI (awscli-2) with dnf"
      install_package awscli-2 ;;
    'ubuntu 24.04')
      say "installing the AWS CLI (snap aws-cli, classic)"
      "${as_root[@]}" snap install aws-cli --classic >/dev/null
      # snapd puts /snap/bin on login shells' PATH, which the SSM agent's shell may not have.
      command -v aws >/dev/null 2>&1 || "${as_root[@]}" ln -sfn /snap/bin/aws /usr/local/bin/aws ;;
    *)
      say "installing the AWS CLI (awscli) with apt"
      install_package awscli ;;
  esac
  command -v aws >/dev/null 2>&1 || fail "the AWS CLI was installed but aws is not on PATH ($PATH)"
}

# The playbook arrived in the header as a base64 tar.gz; a killed run's folder is removed by a later one.
unpack_playbook() {
  local tmp="${TMPDIR:-/tmp}"
  find "$tmp" -maxdepth 1 -name 'webapp-configure-*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
  work=$(mktemp -d "$tmp/webapp-configure-XXXXXXXX")
  printf '%s' "$playbook_archive" | base64 -d | tar -xz -C "$work"
  [ -f "$work/configure-host.yml" ] || fail "the playbook archive has no configure-host.yml"
}

on_configure_exit() {
  local status=$?
  set +e
  trap '' INT TERM
  if [ -n "${work:-}" ]; then rm -rf "$work"; fi
  exit "$status"
}

playbook() {
  local extra=() v
  for v in "${playbook_variables[@]}"; do extra+=(-e "$v"); done
  # No HOME under the SSM agent: ansible's own temporary files stay in the work folder.
  ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_REMOTE_TEMP="$work/tmp" ANSIBLE_RETRY_FILES_ENABLED=0 \
    ansible-playbook -c local -i localhost, "$work/configure-host.yml" "${become[@]}" "${extra[@]}" "$@"
}

check_playbook_syntax() {
  playbook --syntax-check >"$work/syntax.log" 2>&1 || { tail -n 20 "$work/syntax.log"; fail "the playbook's syntax check failed"; }
}

# run_playbook RUN: one run; reports how many tasks it changed and how long it took.
run_playbook() {
  local run="$1" log="$work/run-$1.log" started changed
  started=$(date +%s%3N)
  playbook >"$log" 2>&1 || { tail -n 30 "$log"; fail "ansible-playbook failed on run $run (its last lines are above)"; }
  changed=$(sed -n 's/^localhost *:.* changed=\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
  [ -n "$changed" ] || { tail -n 30 "$log"; fail "ansible-playbook printed no recap on run $run"; }
  emit "{\"kind\":\"configured\",\"run\":$run,\"changed\":$changed,\"ms\":$(( $(date +%s%3N) - started )),\"system\":$(json_str "$system_name")}"
  say "run $run: changed=$changed"
  last_changed=$changed
}

# The second run must change nothing.
check_idempotent() {
  run_playbook 2
  [ "$last_changed" = 0 ] || fail "ConfigureHost is not idempotent: the second run changed $last_changed tasks"
}
