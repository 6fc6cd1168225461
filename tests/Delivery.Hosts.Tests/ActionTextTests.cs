using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Tests;

/// <summary>
/// Pins the exact shell text of every action. A change here must be deliberate: the host runs exactly this.
/// Actions that take settings are rendered with non-default values so the test shows where each one lands.
/// </summary>
public sealed class ActionTextTests
{
    static readonly HostSettings Host = new() { StateRoot = "/srv/deploy", PrivatePortFirst = 20000, PrivatePortLast = 20099 };
    static readonly DeployEnvironment Staging = DeployEnvironment.Staging;
    static readonly Release SampleRelease = new("1.2.3", "registry.example:5000/webapp", "sha256:" + new string('a', 64), "0123456789abcdef0123456789abcdef01234567");

    public static TheoryData<string> Names => new(Actions.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Action_text_is_exactly_as_pinned(string name) => Assert.Equal(Expected[name], Actions[name]());

    [Fact]
    public void Every_action_is_pinned() => Assert.Equal(Actions.Keys.Order(), Expected.Keys.Order());

    static readonly Dictionary<string, Func<string>> Actions = new()
    {
        ["ScriptContext.Host"] = () => ScriptContext.Host(Host, "alice@ci"),
        ["ScriptContext.Host with DOCKER_HOST and a quote"] = () => ScriptContext.Host(Host with { DockerHost = "unix:///run/engine.sock", Haproxy = "/opt/it's/haproxy" }, "alice@ci"),
        ["ScriptContext.Environment"] = () => ScriptContext.Environment(Host with { PublicBindAddress = "127.0.0.1" }, Staging),
        ["ScriptContext.Release"] = () => ScriptContext.Release(SampleRelease),
        ["ScriptLibrary.Header"] = () => ScriptLibrary.Header("deploy 1.2.3 to staging"),
        ["ScriptLibrary.Output"] = () => ScriptLibrary.Output,
        ["ScriptLibrary.Timed"] = () => ScriptLibrary.Timed,
        ["ScriptLibrary.Field"] = () => ScriptLibrary.Field,
        ["ScriptLibrary.JsonString"] = () => ScriptLibrary.JsonString,
        ["ScriptLibrary.Clock"] = () => ScriptLibrary.Clock,
        ["ScriptLibrary.Processes"] = () => ScriptLibrary.Processes,
        ["ScriptLibrary.Ports"] = () => ScriptLibrary.Ports,
        ["LockActions.Describe"] = () => LockActions.Describe,
        ["LockActions.IsStale"] = () => LockActions.IsStale,
        ["LockActions.TakeOver"] = () => LockActions.TakeOver,
        ["LockActions.Acquire"] = () => LockActions.Acquire,
        ["LockActions.Release"] = () => LockActions.Release,
        ["LockActions.ForceUnlock"] = () => LockActions.ForceUnlock,
        ["ProxyActions.Api"] = () => ProxyActions.Api,
        ["ProxyActions.WriteBase"] = () => ProxyActions.WriteBase,
        ["ProxyActions.WriteFragment"] = () => ProxyActions.WriteFragment,
        ["ProxyActions.Load"] = () => ProxyActions.Load,
        ["ProxyActions.Stop"] = () => ProxyActions.Stop,
        ["ProxyActions.CheckPublicPort"] = () => ProxyActions.CheckPublicPort,
        ["ProxyActions.PointAtCurrent"] = () => ProxyActions.PointAtCurrent,
        ["ContainerActions.CheckTools"] = () => ContainerActions.CheckTools,
        ["ContainerActions.List"] = () => ContainerActions.List,
        ["ContainerActions.Pull"] = () => ContainerActions.Pull,
        ["ContainerActions.Reconcile"] = () => ContainerActions.Reconcile(Staging),
        ["ContainerActions.StartGreen"] = () => ContainerActions.StartGreen(Host, Staging),
        ["ContainerActions.Drain"] = () => ContainerActions.Drain(Staging with { DrainTimeout = TimeSpan.FromSeconds(12), StopTimeout = TimeSpan.FromSeconds(7) }),
        ["ContainerActions.Retained"] = () => ContainerActions.Retained,
        ["ContainerActions.Prune"] = () => ContainerActions.Prune(Staging with { KeepReleases = 5 }),
        ["ContainerActions.Logs"] = () => ContainerActions.Logs(50),
        ["ContainerActions.RemoveAll"] = () => ContainerActions.RemoveAll,
        ["HealthActions.WaitHealthy"] = () => HealthActions.WaitHealthy(Staging with { HealthTimeout = TimeSpan.FromSeconds(45), HealthPath = "/healthz/ready" }),
        ["ReleaseActions.Switch"] = () => ReleaseActions.Switch,
        ["ReleaseActions.Commit"] = () => ReleaseActions.Commit,
        ["ReleaseActions.Record"] = () => ReleaseActions.Record,
        ["ReleaseActions.ResolveRollback"] = () => ReleaseActions.ResolveRollback,
        ["StatusActions.Report"] = () => StatusActions.Report(Staging),
        ["StatusActions.History"] = () => StatusActions.History,
        ["TeardownActions.Environment"] = () => TeardownActions.Environment,
        ["TeardownActions.Proxy"] = () => TeardownActions.Proxy,
        ["HostScripts.Trap"] = () => HostScripts.Trap("  cleanup_here\n"),
        ["BakeActions.Settings"] = () => BakeActions.Settings(new Bake.BakeSettings
        {
            Duration = TimeSpan.FromSeconds(45), Interval = TimeSpan.FromMilliseconds(2500), MaxErrorRate = 0.02, MaxLatencyRatio = 1.5,
            LatencyFloor = TimeSpan.FromMilliseconds(120), MinRequests = 7, ProbesPerInterval = 6, ProbePaths = ["/", "/it's"],
        }, Staging with { MetricsPath = "/internal/metrics" }),
        ["BakeActions.Snapshot"] = () => BakeActions.Snapshot,
        ["BakeActions.Evaluate"] = () => BakeActions.Evaluate,
        ["BakeActions.Prepare"] = () => BakeActions.Prepare,
        ["BakeActions.Probe"] = () => BakeActions.Probe,
        ["BakeActions.Watch"] = () => BakeActions.Watch,
        ["BakeActions.Rollback"] = () => BakeActions.Rollback,
    };

    /// <summary>Writes every action's current text to $PIN_DUMP (a C# dictionary body) to review and paste in.</summary>
    [Fact]
    public void Dump_when_asked()
    {
        if (Environment.GetEnvironmentVariable("PIN_DUMP") is not { Length: > 0 } file) return;
        var sb = new System.Text.StringBuilder();
        foreach (var (name, render) in Actions)
        {
            var indented = string.Join("\n", render().Split('\n').Select(l => l.Length == 0 ? l : "            " + l));
            sb.Append($"        [\"{name}\"] =\n            \"\"\"\n{indented}\n            \"\"\",\n");
        }
        File.WriteAllText(file, sb.ToString());
    }

    static readonly Dictionary<string, string> Expected = new()
    {
        ["ScriptContext.Host"] =
            """
            app='webapp'
            root='/srv/deploy'
            proxy_dir="$root/proxy"
            proxy_conf_dir="$proxy_dir/conf.d"
            proxy_socket="$proxy_dir/admin.sock"
            proxy_pidfile="$proxy_dir/haproxy.pid"
            proxy_lock_dir="$proxy_dir/lock"
            docker='docker'
            haproxy='haproxy'
            socat='socat'
            curl='curl'
            deployed_by='alice@ci'

            """,
        ["ScriptContext.Host with DOCKER_HOST and a quote"] =
            """
            export DOCKER_HOST='unix:///run/engine.sock'
            app='webapp'
            root='/srv/deploy'
            proxy_dir="$root/proxy"
            proxy_conf_dir="$proxy_dir/conf.d"
            proxy_socket="$proxy_dir/admin.sock"
            proxy_pidfile="$proxy_dir/haproxy.pid"
            proxy_lock_dir="$proxy_dir/lock"
            docker='docker'
            haproxy='/opt/it'\''s/haproxy'
            socat='socat'
            curl='curl'
            deployed_by='alice@ci'

            """,
        ["ScriptContext.Environment"] =
            """
            env_name='staging'
            env_dir="$root/envs/$env_name"
            current_file="$env_dir/current"
            previous_file="$env_dir/previous"
            history_file="$env_dir/history.jsonl"
            lock_dir="$env_dir/lock"
            backend="$app-$env_name"
            proxy_fragment="$proxy_conf_dir/$backend.cfg"
            public_port=8081
            public_bind='127.0.0.1'

            """,
        ["ScriptContext.Release"] =
            """
            release_version='1.2.3'
            release_digest='sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
            release_image='registry.example:5000/webapp@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
            release_commit='0123456789abcdef0123456789abcdef01234567'

            """,
        ["ScriptLibrary.Header"] =
            """
            #!/usr/bin/env bash
            # deploy 1.2.3 to staging (rendered by Delivery.Hosts; runs as one script on the host)
            set -euo pipefail
            exec 2>&1
            umask 022

            """,
        ["ScriptLibrary.Output"] =
            """
            say() { printf 'webapp-deploy: %s\n' "$*"; }
            fail() { printf 'webapp-deploy: error: %s\n' "$*"; exit 1; }
            emit() { printf 'webapp-deploy: data: %s\n' "$*"; }

            """,
        ["ScriptLibrary.Timed"] =
            """
            timed() {
              local phase="$1" started
              shift
              started=$(date +%s%3N)
              "$@"
              emit "{\"kind\":\"timing\",\"phase\":\"$phase\",\"ms\":$(( $(date +%s%3N) - started ))}"
            }

            """,
        ["ScriptLibrary.Field"] =
            """
            field() {
              [ -f "$1" ] || return 0
              sed -n "/^$2=/{s/^$2=//p;q;}" "$1"
            }

            """,
        ["ScriptLibrary.JsonString"] =
            """
            json_str() {
              local s="$1"
              s=${s//\\/\\\\}
              s=${s//\"/\\\"}
              printf '"%s"' "$s"
            }

            """,
        ["ScriptLibrary.Clock"] =
            """
            now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

            """,
        ["ScriptLibrary.Processes"] =
            """
            pid_alive() {
              local state
              state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
              [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
            }
            pid_start() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null || true; }

            """,
        ["ScriptLibrary.Ports"] =
            """
            port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

            """,
        ["LockActions.Describe"] =
            """
            lock_holder() {
              local f="$1/holder"
              if [ ! -f "$f" ]; then printf 'an unknown holder (%s has no holder file)' "$1"; return 0; fi
              printf '%s by %s on %s (pid %s) since %s' "$(field "$f" what)" "$(field "$f" user)" "$(field "$f" host)" "$(field "$f" pid)" "$(field "$f" since)"
            }

            """,
        ["LockActions.IsStale"] =
            """
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

            """,
        ["LockActions.TakeOver"] =
            """
            take_over_lock() {
              local aside="$1.stale.$$"
              mv -T "$1" "$aside" 2>/dev/null || return 0
              if [ "$(field "$aside/holder" pid)/$(field "$aside/holder" pidstart)" != "$stale_id" ]; then
                mv -T "$aside" "$1" 2>/dev/null || true
                return 0
              fi
              rm -rf "$aside"
            }

            """,
        ["LockActions.Acquire"] =
            """
            acquire_lock() {
              local dir="$1" label="$2" what="$3" deadline mine="$1.$$"
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
                  rm -rf "$mine"
                  fail "$label is locked by $(lock_holder "$dir"); try again later, wait with --lock-wait <seconds>, or force-unlock it if that process is gone"
                fi
                sleep 1
              done
            }

            """,
        ["LockActions.Release"] =
            """
            release_lock() {
              local gone="$1.released.$$"
              [ -f "$1/holder" ] || return 0
              [ "$(field "$1/holder" pid)" = "$$" ] && [ "$(field "$1/holder" host)" = "$(uname -n)" ] || return 0
              mv -T "$1" "$gone" 2>/dev/null || return 0
              rm -rf "$gone"
            }

            """,
        ["LockActions.ForceUnlock"] =
            """
            force_unlock() {
              if [ ! -d "$1" ]; then say "$2 is not locked"; return 0; fi
              say "removing the lock on $2 held by $(lock_holder "$1")"
              mv -T "$1" "$1.forced.$$"
              rm -rf "$1.forced.$$"
            }

            """,
        ["ProxyActions.Api"] =
            """
            proxy_api() { printf '%s\n' "$1" | "$socat" -t 5 - "UNIX-CONNECT:$proxy_socket"; }
            proxy_running() {
              local info
              [ -S "$proxy_socket" ] || return 1
              info=$(proxy_api 'show info' 2>/dev/null) || return 1
              case "$info" in *'Name: HAProxy'*) return 0 ;; esac
              return 1
            }
            proxy_serves_env() {
              proxy_api 'show stat' 2>/dev/null | awk -F, -v b="$backend" '$1 == b && $2 == "FRONTEND" { found = 1 } END { exit !found }'
            }
            proxy_set() {
              local out
              out=$(proxy_api "$1") || fail "the proxy's runtime API did not answer '$1'"
              case "$out" in
                ''|*'changed from'*|*'no need to change'*) [ "${2:-}" = quiet ] || say "proxy: $1" ;;
                *) fail "the proxy refused '$1': $(printf '%s\n' "$out" | head -n 1)" ;;
              esac
            }
            server_sessions() {
              proxy_api 'show stat' | awk -F, -v b="$backend" -v s="$1" '$1 == b && $2 == s { print $5 }'
            }

            """,
        ["ProxyActions.WriteBase"] =
            """
            write_proxy_base() {
              local tmp="$proxy_conf_dir/.base.$$"
              mkdir -p "$proxy_conf_dir"
              cat > "$tmp" <<EOF
            # managed by webapp-deploy: settings shared by all environments; each environment has its own file here
            global
                stats socket $proxy_socket mode 600 level admin expose-fd listeners
                stats timeout 30s
                maxconn 4096

            defaults
                mode http
                option http-server-close
                option idle-close-on-response
                option redispatch
                retries 3
                timeout connect 3s
                timeout client 60s
                timeout server 60s
                timeout http-keep-alive 10s
            EOF
              mv -f "$tmp" "$proxy_conf_dir/00-global.cfg"
            }

            """,
        ["ProxyActions.WriteFragment"] =
            """
            write_proxy_fragment() {
              local blue_port="$3" green_port="$3" blue_flag='' green_flag='' tmp="$proxy_fragment.tmp.$$"
              if [ "$1" = blue ]; then blue_port="$2"; green_flag=' disabled'; else green_port="$2"; blue_flag=' disabled'; fi
              mkdir -p "$proxy_conf_dir"
              {
                printf '# managed by webapp-deploy: %s serves %s from slot %s; rewritten on every switch\n' "$env_name" "$4" "$1"
                printf 'frontend %s\n    bind %s:%s\n    default_backend %s\n\n' "$backend" "$public_bind" "$public_port" "$backend"
                printf 'backend %s\n    server blue 127.0.0.1:%s%s\n    server green 127.0.0.1:%s%s\n' "$backend" "$blue_port" "$blue_flag" "$green_port" "$green_flag"
              } > "$tmp"
              mv -f "$tmp" "$proxy_fragment"
            }

            """,
        ["ProxyActions.Load"] =
            """
            load_proxy() {
              local out old waited=0
              write_proxy_base
              out=$("$haproxy" -c -f "$proxy_conf_dir" 2>&1) || fail "the proxy configuration in $proxy_conf_dir is invalid: $(printf '%s\n' "$out" | grep -m 1 ALERT || true)"
              if proxy_running; then
                old=$(cat "$proxy_pidfile" 2>/dev/null || true)
                say "reloading the proxy to load $proxy_conf_dir (listening sockets are handed over)"
                "$haproxy" -D -f "$proxy_conf_dir" -p "$proxy_pidfile" -x "$proxy_socket" -sf $old </dev/null >"$proxy_dir/haproxy.log" 2>&1 || fail "the proxy did not reload: $(tail -n 1 "$proxy_dir/haproxy.log")"
              else
                say "starting the proxy from $proxy_conf_dir"
                "$haproxy" -D -f "$proxy_conf_dir" -p "$proxy_pidfile" </dev/null >"$proxy_dir/haproxy.log" 2>&1 || fail "the proxy did not start: $(tail -n 1 "$proxy_dir/haproxy.log")"
              fi
              until proxy_running; do
                waited=$((waited + 1))
                [ "$waited" -le 100 ] || fail "the proxy does not answer on $proxy_socket"
                sleep 0.1
              done
            }

            """,
        ["ProxyActions.Stop"] =
            """
            stop_proxy() {
              local pid waited
              [ -f "$proxy_pidfile" ] || return 0
              for pid in $(cat "$proxy_pidfile"); do
                pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = haproxy ] || continue
                say "stopping the proxy (pid $pid)"
                kill -USR1 "$pid" 2>/dev/null || true
                waited=0
                while pid_alive "$pid" && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
                if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
              done
              rm -f "$proxy_pidfile" "$proxy_socket"
            }

            """,
        ["ProxyActions.CheckPublicPort"] =
            """
            check_public_port() {
              if proxy_running && proxy_serves_env; then return 0; fi
              if port_open "${public_bind:-127.0.0.1}" "$public_port"; then
                fail "public port $public_port of $env_name is already in use by another program, not this host's proxy; free it or choose another port (nothing was changed)"
              fi
            }

            """,
        ["ProxyActions.PointAtCurrent"] =
            """
            point_proxy_at_current() {
              local slot port other
              slot=$(field "$current_file" slot)
              port=$(field "$current_file" port)
              if [ -z "$slot" ]; then rm -f "$proxy_fragment"; return 0; fi
              if [ "$slot" = blue ]; then other=green; else other=blue; fi
              write_proxy_fragment "$slot" "$port" "$port" "$(field "$current_file" version)"
              if proxy_running && proxy_serves_env; then
                proxy_set "set server $backend/$slot addr 127.0.0.1 port $port" quiet
                proxy_set "set server $backend/$slot state ready" quiet
                proxy_set "set server $backend/$other state maint" quiet
              fi
            }

            """,
        ["ContainerActions.CheckTools"] =
            """
            check_host_tools() {
              command -v "$docker" >/dev/null 2>&1 || fail "docker is not installed on this host ($docker not found); run ./build.sh ConfigureHost"
              command -v "$haproxy" >/dev/null 2>&1 || fail "haproxy is not installed on this host ($haproxy not found); run ./build.sh ConfigureHost"
              command -v "$socat" >/dev/null 2>&1 || fail "socat is not installed on this host ($socat not found); run ./build.sh ConfigureHost"
              command -v "$curl" >/dev/null 2>&1 || fail "curl is not installed on this host ($curl not found); run ./build.sh ConfigureHost"
              "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 || fail "the Docker engine does not answer ($docker version failed); is dockerd running? run ./build.sh ConfigureHost"
            }

            """,
        ["ContainerActions.List"] =
            """
            env_containers() {
              "$docker" ps $1 --filter "label=webapp.app=$app" --filter "label=webapp.environment=$env_name" --format "$2"
            }

            """,
        ["ContainerActions.Pull"] =
            """
            pull_image() {
              local out
              if "$docker" image inspect "$release_image" >/dev/null 2>&1; then
                say "$release_image is already on this host"
                return 0
              fi
              say "pulling $release_image"
              out=$("$docker" pull "$release_image" 2>&1) || fail "cannot pull $release_image: $(printf '%s\n' "$out" | tail -n 1) (nothing was changed)"
            }

            """,
        ["ContainerActions.Reconcile"] =
            """
            reconcile_environment() {
              local current name digest
              current=$(field "$current_file" container)
              while read -r name digest; do
                [ -n "$name" ] && [ "$name" != "$current" ] || continue
                if [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file"; then
                  say "stopping $name: an interrupted run left it running"
                  "$docker" stop -t 30 "$name" >/dev/null
                else
                  say "removing $name: an interrupted run left it running and it never served"
                  "$docker" rm -f "$name" >/dev/null
                fi
              done < <(env_containers '' '{{.Names}} {{.Label "webapp.digest"}}')
              [ -n "$current" ] || return 0
              acquire_lock "$proxy_lock_dir" 'the proxy' "check of $env_name" 60
              point_proxy_at_current
              release_lock "$proxy_lock_dir"
            }

            """,
        ["ContainerActions.StartGreen"] =
            """
            start_green() {
              local port=20000 user out
              old_name=$(field "$current_file" container)
              old_slot=$(field "$current_file" slot)
              old_port=$(field "$current_file" port)
              old_version=$(field "$current_file" version)
              if [ "$old_slot" = blue ]; then green_slot=green; else green_slot=blue; fi
              green_name="$backend-$(printf '%.12s' "${release_digest#sha256:}")-$green_slot"
              user=$("$docker" image inspect --format '{{.Config.User}}' "$release_image") || fail "cannot inspect $release_image on this host"
              case "$user" in
                ''|root|0|root:*|0:*) fail "$release_image runs as root; build it with a non-root USER (nothing was changed)" ;;
              esac
              "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
              while :; do
                [ "$port" -le 20099 ] || fail "no free private port in 20000-20099 on 127.0.0.1"
                if port_open 127.0.0.1 "$port"; then port=$((port + 1)); continue; fi
                if out=$("$docker" run --detach --name "$green_name" \
                    --restart unless-stopped \
                    --publish "127.0.0.1:$port:8080" \
                    --env ASPNETCORE_ENVIRONMENT='Staging' \
                    --label "webapp.app=$app" \
                    --label "webapp.environment=$env_name" \
                    --label "webapp.slot=$green_slot" \
                    --label "webapp.version=$release_version" \
                    --label "webapp.digest=$release_digest" \
                    --label "webapp.image=$release_image" \
                    --label "webapp.commit=$release_commit" \
                    --read-only --tmpfs /tmp \
                    --security-opt no-new-privileges --cap-drop ALL \
                    --memory '512m' --cpus '1.0' \
                    "$release_image" 2>&1); then
                  break
                fi
                "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
                case "$out" in
                  *'already allocated'*|*'address already in use'*) port=$((port + 1)) ;;
                  *) green_name=''; fail "cannot start $release_image: $(printf '%s\n' "$out" | tail -n 1)" ;;
                esac
              done
              green_port=$port
              say "started $green_name ($release_version) on 127.0.0.1:$green_port"
            }

            """,
        ["ContainerActions.Drain"] =
            """
            wait_sessions() {
              local deadline sessions
              deadline=$(( $(date +%s) + 12 ))
              while :; do
                sessions=$(server_sessions "$1" || true)
                [ "${sessions:-0}" != 0 ] || break
                if [ "$(date +%s)" -ge "$deadline" ]; then
                  say "drain timeout: $backend/$1 still has $sessions sessions after 12s"
                  break
                fi
                sleep 0.2
              done
            }
            quiesce_previous() {
              [ -n "$old_name" ] || return 0
              wait_sessions "$old_slot"
              ( proxy_set "set server $backend/$old_slot state maint" ) || say "warning: could not put $backend/$old_slot in maintenance"
            }
            stop_previous() {
              [ -n "$old_name" ] || return 0
              say "stopping $old_name ($old_version)"
              "$docker" stop -t 7 "$old_name" >/dev/null 2>&1 || say "warning: could not stop $old_name"
            }
            drain_previous() {
              quiesce_previous
              stop_previous
            }

            """,
        ["ContainerActions.Retained"] =
            """
            retained_releases() {
              local current_digest seen=' ' name version digest image commit
              current_digest=$(field "$current_file" digest)
              while read -r name version digest image commit; do
                [ -n "$digest" ] && [ "$digest" != "$current_digest" ] || continue
                case "$seen" in *" $digest "*) continue ;; esac
                seen="$seen$digest "
                [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file" || continue
                printf '%s %s %s %s\n' "$version" "$digest" "$image" "${commit:--}"
              done < <(env_containers --all '{{.Names}} {{.Label "webapp.version"}} {{.Label "webapp.digest"}} {{.Label "webapp.image"}} {{.Label "webapp.commit"}}')
            }

            """,
        ["ContainerActions.Prune"] =
            """
            prune_releases() {
              local current kept=1 seen name digest image
              current=$(field "$current_file" container)
              seen=" $(field "$current_file" digest) "
              while read -r name digest image; do
                [ -n "$name" ] && [ "$name" != "$current" ] || continue
                if [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file"; then
                  case "$seen" in
                    *" $digest "*) ;;
                    *) if [ "$kept" -lt 5 ]; then kept=$((kept + 1)); seen="$seen$digest "; continue; fi ;;
                  esac
                fi
                say "pruning $name"
                "$docker" rm -f "$name" >/dev/null
                "$docker" image rm "$image" >/dev/null 2>&1 || true
              done < <(env_containers --all '{{.Names}} {{.Label "webapp.digest"}} {{.Label "webapp.image"}}')
            }

            """,
        ["ContainerActions.Logs"] =
            """
            show_logs() {
              local name
              name=$(field "$current_file" container)
              [ -n "$name" ] || fail "nothing is deployed on $env_name"
              "$docker" logs --tail 50 "$name" 2>&1 | sed 's/^/webapp-deploy: log: /'
            }

            """,
        ["ContainerActions.RemoveAll"] =
            """
            remove_env_containers() {
              local name image
              while read -r name image; do
                [ -n "$name" ] || continue
                say "removing $name"
                "$docker" rm -f "$name" >/dev/null
                "$docker" image rm "$image" >/dev/null 2>&1 || true
              done < <(env_containers --all '{{.Names}} {{.Label "webapp.image"}}')
            }

            """,
        ["HealthActions.WaitHealthy"] =
            """
            wait_healthy() {
              local url="http://127.0.0.1:$green_port/healthz/ready" deadline code state
              deadline=$(( $(date +%s) + 45 ))
              say "waiting up to 45s for HTTP 200 from $url"
              while :; do
                code=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
                if [ "$code" = 200 ]; then
                  say "$green_name is healthy"
                  return 0
                fi
                state=$("$docker" inspect --format '{{.State.Status}} {{.RestartCount}}' "$green_name" 2>/dev/null) || state='missing 0'
                case "$state" in
                  'running 0'|'created 0') ;;
                  *) reject_green "its process stopped (container $state)" ;;
                esac
                if [ "$(date +%s)" -ge "$deadline" ]; then
                  reject_green "no HTTP 200 from /healthz/ready within 45s (last answer: ${code:-none})"
                fi
                sleep 0.5
              done
            }
            reject_green() {
              say "last log lines of $green_name:"
              "$docker" logs --tail 20 "$green_name" 2>&1 | sed 's/^/    | /' || true
              "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
              green_name=''
              fail "$release_version failed the health gate on $env_name: $1; it was removed and ${old_version:-nothing} keeps serving"
            }

            """,
        ["ReleaseActions.Switch"] =
            """
            switch_traffic() {
              acquire_lock "$proxy_lock_dir" 'the proxy' "switch of $env_name to $release_version" 60
              switching=1
              write_proxy_fragment "$green_slot" "$green_port" "${old_port:-$green_port}" "$release_version"
              if proxy_running && proxy_serves_env; then
                proxy_set "set server $backend/$green_slot addr 127.0.0.1 port $green_port"
                proxy_set "set server $backend/$green_slot state ready"
                if [ -n "$old_slot" ]; then proxy_set "set server $backend/$old_slot state drain"; fi
              else
                load_proxy
              fi
              commit_current
              switching=0
              switched_ms=$(date +%s%3N)
              emit "{\"kind\":\"switched\",\"previous\":$(json_str "${old_version:-}")}"
              release_lock "$proxy_lock_dir"
              say "$env_name now serves $release_version from $green_name"
            }

            """,
        ["ReleaseActions.Commit"] =
            """
            commit_current() {
              local tmp="$current_file.tmp.$$"
              mkdir -p "$env_dir"
              if [ -f "$current_file" ]; then
                cp "$current_file" "$previous_file.tmp.$$"
                mv -f "$previous_file.tmp.$$" "$previous_file"
              fi
              printf 'version=%s\ndigest=%s\nimage=%s\ncommit=%s\ncontainer=%s\nslot=%s\nport=%s\nsince=%s\n' \
                "$release_version" "$release_digest" "$release_image" "$release_commit" "$green_name" "$green_slot" "$green_port" "$(now_utc)" > "$tmp"
              mv -f "$tmp" "$current_file"
              green_committed=1
            }

            """,
        ["ReleaseActions.Record"] =
            """
            record_release() {
              local json
              json="\"time\":$(json_str "$(field "$current_file" since)"),\"environment\":$(json_str "$env_name"),\"action\":$(json_str "$1")"
              json="$json,\"version\":$(json_str "$release_version"),\"digest\":$(json_str "$release_digest"),\"image\":$(json_str "$release_image")"
              json="$json,\"commit\":$(json_str "$release_commit"),\"deployed_by\":$(json_str "$deployed_by"),\"container\":$(json_str "$green_name")"
              if [ -n "${2:-}" ]; then json="$json,\"reason\":$(json_str "$2")"; fi
              printf '{%s}\n' "$json" >> "$history_file"
              emit "{\"kind\":\"release\",$json}"
            }

            """,
        ["ReleaseActions.ResolveRollback"] =
            """
            resolve_rollback_target() {
              local current_version current_digest candidates line
              current_version=$(field "$current_file" version)
              current_digest=$(field "$current_file" digest)
              [ -n "$current_digest" ] || fail "nothing is deployed on $env_name, so there is nothing to roll back"
              candidates=$(retained_releases)
              if [ -n "$1" ]; then
                [ "$1" != "$current_version" ] || fail "$1 is already serving on $env_name"
                line=$(printf '%s\n' "$candidates" | awk -v v="$1" '$1 == v && !done { print; done = 1 }')
              else
                line=$(printf '%s\n' "$candidates" | awk -v d="$(field "$previous_file" digest)" \
                  'NF && first == "" { first = $0 } $2 == d && !done { print; done = 1 } END { if (!done && first != "") print first }')
              fi
              if [ -z "$line" ]; then
                fail "${1:-an earlier release} is not retained on $env_name; available: $(printf '%s\n' "$candidates" | awk 'NF { printf "%s%s", sep, $1; sep = ", " } END { if (!sep) printf "none" }')"
              fi
              read -r release_version release_digest release_image release_commit <<< "$line"
              [ "$release_commit" != - ] || release_commit=''
              "$docker" image inspect "$release_image" >/dev/null 2>&1 || fail "the image of $release_version ($release_image) is no longer on this host"
              say "rolling $env_name back from $current_version to $release_version"
            }

            """,
        ["StatusActions.Report"] =
            """
            report_status() {
              local version port health public='' version_q holder=''
              version=$(field "$current_file" version)
              if [ -z "$version" ]; then
                emit "{\"kind\":\"current\",\"environment\":$(json_str "$env_name"),\"deployed\":false}"
              else
                port=$(field "$current_file" port)
                health=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port/readyz" 2>/dev/null) || true
                public=$("$curl" -s -o /dev/null -w '%{http_code}' --max-time 3 "http://${public_bind:-127.0.0.1}:$public_port/readyz" 2>/dev/null) || true
                version_q=$(json_str "$version")
                emit "{\"kind\":\"current\",\"environment\":$(json_str "$env_name"),\"deployed\":true,\"version\":$version_q,\"digest\":$(json_str "$(field "$current_file" digest)"),\"image\":$(json_str "$(field "$current_file" image)"),\"commit\":$(json_str "$(field "$current_file" commit)"),\"since\":$(json_str "$(field "$current_file" since)"),\"container\":$(json_str "$(field "$current_file" container)"),\"port\":$(json_str "$port"),\"health\":$(json_str "${health:-000}"),\"public_health\":$(json_str "${public:-000}"),\"previous\":$(json_str "$(field "$previous_file" version)")}"
              fi
              retained_releases | while read -r version digest image commit; do
                emit "{\"kind\":\"retained\",\"version\":$(json_str "$version"),\"digest\":$(json_str "$digest"),\"image\":$(json_str "$image"),\"commit\":$(json_str "${commit#-}")}"
              done
              if [ -d "$lock_dir" ]; then holder=$(lock_holder "$lock_dir"); fi
              emit "{\"kind\":\"lock\",\"holder\":$(json_str "$holder")}"
            }

            """,
        ["StatusActions.History"] =
            """
            report_history() {
              [ -f "$history_file" ] || return 0
              sed 's/^/webapp-deploy: data: {"kind":"history","record":/; s/$/}/' "$history_file"
            }

            """,
        ["TeardownActions.Environment"] =
            """
            teardown_environment() {
              acquire_lock "$proxy_lock_dir" 'the proxy' "teardown of $env_name" 60
              if [ -f "$proxy_fragment" ]; then
                rm -f "$proxy_fragment"
                if proxy_running; then load_proxy; fi
              fi
              release_lock "$proxy_lock_dir"
              remove_env_containers
              find "$env_dir" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
              say "$env_name is torn down"
            }

            """,
        ["TeardownActions.Proxy"] =
            """
            teardown_proxy() {
              acquire_lock "$proxy_lock_dir" 'the proxy' 'teardown of the proxy' 60
              stop_proxy
              rm -rf "$proxy_conf_dir" "$proxy_dir/haproxy.log"
              release_lock "$proxy_lock_dir"
              rmdir "$proxy_dir" "$root/envs" 2>/dev/null || true
              say "the proxy is stopped and its configuration removed"
            }

            """,
        ["HostScripts.Trap"] =
            """
            on_exit() {
              local status=$?
              set +e
              trap '' INT TERM
              cleanup_here
              release_lock "${proxy_lock_dir:-}"
              release_lock "${lock_dir:-}"
              exit "$status"
            }
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM

            """,
        ["BakeActions.Settings"] =
            """
            metrics_path='/internal/metrics'
            bake_ms=45000
            bake_interval_ms=2500
            bake_max_error_rate=0.02
            bake_latency_ratio=1.5
            bake_latency_floor=0.12
            bake_min_requests=7
            bake_probes=6
            probe_paths=('/' '/it'\''s')

            """,
        ["BakeActions.Snapshot"] =
            """
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

            """,
        ["BakeActions.Evaluate"] =
            """
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

            """,
        ["BakeActions.Prepare"] =
            """
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

            """,
        ["BakeActions.Probe"] =
            """
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

            """,
        ["BakeActions.Watch"] =
            """
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

            """,
        ["BakeActions.Rollback"] =
            """
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
              # What the bad release answered in all, including requests after the last sample.
              if metrics_snapshot "$green_port" "$bake_dir/final"; then
                read -r req err rate p95 p99 limit verdict < <(bake_eval "$bake_dir/start" "$bake_dir/final" "$probe_unanswered")
                bake_result="\"requests\":$req,\"errors\":$err,\"error_rate\":$rate,\"max_error_rate\":$bake_max_error_rate,\"p95\":$p95,\"p99\":$p99,\"p99_limit\":$limit,\"baseline_p99\":$baseline_p99,\"probes\":$probe_sent"
              fi
              emit "{\"kind\":\"bake\",\"verdict\":\"fail\",\"rule\":\"$rule\",\"reason\":$(json_str "$reason"),\"rolled_back_to\":$(json_str "$old_version"),\"rollback_ms\":$((rolled_ms - switched_ms)),${bake_result:+$bake_result,}\"seconds\":$(ms_text $((rolled_ms - switched_ms)))}"
              record_release bake-failed "$reason"
              ( release_version=$(field "$current_file" version) release_digest=$(field "$current_file" digest) \
                release_image=$(field "$current_file" image) release_commit=$(field "$current_file" commit) green_name=$old_name
                record_release rollback "bake of $bad_version failed: $reason" )
              wait_sessions "$green_slot"
              ( proxy_set "set server $backend/$green_slot state maint" quiet ) || true
              say "last log lines of $green_name:"
              "$docker" logs --tail 20 "$green_name" 2>&1 | sed 's/^/    | /' || true
              "$docker" rm -f "$green_name" >/dev/null 2>&1 || true
              rm -rf "$bake_dir"
              fail "$release_version failed the bake on $env_name: $reason; rolled back to $old_version"
            }

            """,
    };
}
