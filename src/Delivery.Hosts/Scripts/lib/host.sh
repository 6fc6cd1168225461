# shellcheck shell=bash
# Reading this host: state files, processes, ports, the clock, the paths every action uses, the tools it needs,
# and the containers of one environment.
# needs: lib/output.sh

# field FILE KEY: reads key=value state files (current, previous, lock holder) without sourcing them.
field() {
  [ -f "$1" ] || return 0
  sed -n "/^$2=/{s/^$2=//p;q;}" "$1"
}

now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# A process counts as alive unless it is gone or a zombie; its start time tells a reused PID apart.
pid_alive() {
  local state
  state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
pid_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null || true; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# A host that describes itself (an EC2 instance, or a fake one in tests): ConfigureHost writes key=value lines to
# $host_config_file (or the file WEBAPP_HOST_CONFIG names), and they override the rendered values, so one script
# text serves every instance of a fleet.
host_value() {
  local v=''
  if [ -n "$host_config" ] && [ -f "$host_config" ]; then v=$(sed -n "s/^$1=//p" "$host_config" | tail -n 1); fi
  printf '%s' "${v:-$2}"
}

# shellcheck disable=SC2034 # The host's paths serve every plan; each plan reads the ones its actions use.
use_host() {
  host_config=''
  if [ "$reads_host_config" = 1 ]; then host_config="${WEBAPP_HOST_CONFIG:-$host_config_file}"; fi
  # The engine and the docker client config (its standing registry logins) this host's deploys use, when they are
  # not the defaults: e.g. a second dockerd, or a login kept apart from root's ~/.docker.
  docker_host=$(host_value docker_host "$docker_host")
  if [ -n "$docker_host" ]; then export DOCKER_HOST="$docker_host"; fi
  docker_config=$(host_value docker_config '')
  if [ -n "$docker_config" ]; then export DOCKER_CONFIG="$docker_config"; fi
  app=$(host_value app "$app")
  root=$(host_value state_root "$root")
  public_bind=$(host_value public_bind "$public_bind")
  proxy_dir="$root/proxy"
  proxy_conf_dir="$proxy_dir/conf.d"
  proxy_socket="$proxy_dir/admin.sock"
  proxy_pidfile="$proxy_dir/haproxy.pid"
  proxy_lock_dir="$proxy_dir/lock"
}

# use_environment NAME PUBLIC_PORT: the paths of one environment (after use_host).
# shellcheck disable=SC2034 # The environment's paths serve every plan; each plan reads the ones its actions use.
use_environment() {
  env_name="$1"
  public_port=$(host_value "${env_name}_port" "$2")
  env_dir="$root/envs/$env_name"
  current_file="$env_dir/current"
  previous_file="$env_dir/previous"
  history_file="$env_dir/history.jsonl"
  lock_dir="$env_dir/lock"
  backend="$app-$env_name"
  proxy_fragment="$proxy_conf_dir/$backend.cfg"
}

check_host_tools() {
  command -v "$docker" >/dev/null 2>&1 || fail "docker is not installed on this host ($docker not found); run ./build.sh ConfigureHost"
  command -v "$haproxy" >/dev/null 2>&1 || fail "haproxy is not installed on this host ($haproxy not found); run ./build.sh ConfigureHost"
  command -v "$socat" >/dev/null 2>&1 || fail "socat is not installed on this host ($socat not found); run ./build.sh ConfigureHost"
  command -v "$curl" >/dev/null 2>&1 || fail "curl is not installed on this host ($curl not found); run ./build.sh ConfigureHost"
  check_engine
}

# What a pull needs, and no more: the engine (the pull check runs before the tools a switch needs are asked for).
check_engine() {
  command -v "$docker" >/dev/null 2>&1 || fail "docker is not installed on this host ($docker not found); run ./build.sh ConfigureHost"
  "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 || fail "the Docker engine does not answer ($docker version failed); is dockerd running? run ./build.sh ConfigureHost"
}

# Containers of one environment are found by two labels (webapp.app and webapp.environment), never by name
# patterns, so nothing here can touch another environment's containers.
# env_containers PS_OPTION FORMAT: this environment's containers, newest first (PS_OPTION is '' or --all).
env_containers() {
  # shellcheck disable=SC2086 # An empty option must vanish, not become an empty argument.
  "$docker" ps $1 --filter "label=webapp.app=$app" --filter "label=webapp.environment=$env_name" --format "$2"
}

# Rollback targets, newest first: one line per health-verified release other than the serving one.
retained_releases() {
  local current_digest seen=' ' version digest image commit
  current_digest=$(field "$current_file" digest)
  while read -r _ version digest image commit; do
    if [ -z "$digest" ] || [ "$digest" = "$current_digest" ]; then continue; fi
    case "$seen" in *" $digest "*) continue ;; esac
    seen="$seen$digest "
    if [ ! -f "$history_file" ] || ! grep -q "\"digest\":\"$digest\"" "$history_file"; then continue; fi
    printf '%s %s %s %s\n' "$version" "$digest" "$image" "${commit:--}"
  done < <(env_containers --all '{{.Names}} {{.Label "webapp.version"}} {{.Label "webapp.digest"}} {{.Label "webapp.image"}} {{.Label "webapp.commit"}}')
}
