using static Delivery.Hosts.ShellQuote;

namespace Delivery.Hosts.Scripts;

/// <summary>
/// Containers of one environment are found by two labels (webapp.app and webapp.environment), never by name
/// patterns, so nothing here can touch another environment's containers. Stopped containers of earlier releases
/// are the rollback targets: they keep their images on the host, so a rollback needs no registry.
/// </summary>
public static class ContainerActions
{
    public const string CheckTools = """
        check_host_tools() {
          command -v "$docker" >/dev/null 2>&1 || fail "docker is not installed on this host ($docker not found); run ./build.sh ConfigureHost"
          command -v "$haproxy" >/dev/null 2>&1 || fail "haproxy is not installed on this host ($haproxy not found); run ./build.sh ConfigureHost"
          command -v "$socat" >/dev/null 2>&1 || fail "socat is not installed on this host ($socat not found); run ./build.sh ConfigureHost"
          command -v "$curl" >/dev/null 2>&1 || fail "curl is not installed on this host ($curl not found); run ./build.sh ConfigureHost"
          "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 || fail "the Docker engine does not answer ($docker version failed); is dockerd running? run ./build.sh ConfigureHost"
        }

        """;

    /// <summary>Lists this environment's containers, newest first: the given docker format fields, space separated.</summary>
    public const string List = """
        env_containers() {
          "$docker" ps $1 --filter "label=webapp.app=$app" --filter "label=webapp.environment=$env_name" --format "$2"
        }

        """;

    /// <summary>An image already on the host (same digest) is not pulled again; that is what makes rollbacks registry-free.</summary>
    public const string Pull = """
        pull_image() {
          local out
          if "$docker" image inspect "$release_image" >/dev/null 2>&1; then
            say "$release_image is already on this host"
            return 0
          fi
          say "pulling $release_image"
          out=$("$docker" pull "$release_image" 2>&1) || fail "cannot pull $release_image: $(printf '%s\n' "$out" | tail -n 1) (nothing was changed)"
        }

        """;

    /// <summary>Repairs what an interrupted run (SIGKILL, reboot) left behind: its new container and a half-done switch.</summary>
    public static string Reconcile(DeployEnvironment env) => $$$"""
        reconcile_environment() {
          local current name digest
          current=$(field "$current_file" container)
          while read -r name digest; do
            [ -n "$name" ] && [ "$name" != "$current" ] || continue
            if [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file"; then
              say "stopping $name: an interrupted run left it running"
              "$docker" stop -t {{{DeployEnvironment.Seconds(env.StopTimeout)}}} "$name" >/dev/null
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

        """;

    /// <summary>Starts the new release in the slot the serving one does not use, on a free 127.0.0.1 port.</summary>
    public static string StartGreen(HostSettings host, DeployEnvironment env) => $$$"""
        start_green() {
          local port={{{host.PrivatePortFirst}}} user out
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
            [ "$port" -le {{{host.PrivatePortLast}}} ] || fail "no free private port in {{{host.PrivatePortFirst}}}-{{{host.PrivatePortLast}}} on 127.0.0.1"
            if port_open 127.0.0.1 "$port"; then port=$((port + 1)); continue; fi
            if out=$("$docker" run --detach --name "$green_name" \
                --restart unless-stopped \
                --publish "127.0.0.1:$port:{{{env.ContainerPort}}}" \
                --env ASPNETCORE_ENVIRONMENT={{{Quote(env.AspNetCoreEnvironment)}}} \
                --label "webapp.app=$app" \
                --label "webapp.environment=$env_name" \
                --label "webapp.slot=$green_slot" \
                --label "webapp.version=$release_version" \
                --label "webapp.digest=$release_digest" \
                --label "webapp.image=$release_image" \
                --label "webapp.commit=$release_commit" \
                --read-only --tmpfs /tmp \
                --security-opt no-new-privileges --cap-drop ALL \
                --memory {{{Quote(env.Memory)}}} --cpus {{{Quote(env.Cpus)}}} \
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

        """;

    /// <summary>Waits for the previous release's in-flight requests, then takes it out of rotation (maint) and stops
    /// it; it stays on the host as a rollback target. With a bake, stopping waits until the bake has passed.</summary>
    public static string Drain(DeployEnvironment env) => $$"""
        wait_sessions() {
          local deadline sessions
          deadline=$(( $(date +%s) + {{DeployEnvironment.Seconds(env.DrainTimeout)}} ))
          while :; do
            sessions=$(server_sessions "$1" || true)
            [ "${sessions:-0}" != 0 ] || break
            if [ "$(date +%s)" -ge "$deadline" ]; then
              say "drain timeout: $backend/$1 still has $sessions sessions after {{DeployEnvironment.Seconds(env.DrainTimeout)}}s"
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
          "$docker" stop -t {{DeployEnvironment.Seconds(env.StopTimeout)}} "$old_name" >/dev/null 2>&1 || say "warning: could not stop $old_name"
        }
        drain_previous() {
          quiesce_previous
          stop_previous
        }

        """;

    /// <summary>Lists rollback targets, newest first: one line per health-verified release other than the serving one.</summary>
    public const string Retained = """
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

        """;

    /// <summary>Keeps the serving release plus the newest other verified (in history) releases up to KeepReleases; removes
    /// the rest, duplicates of a kept release and containers that never passed the health gate, with their images
    /// (an image another environment's container still uses is left alone by docker).</summary>
    public static string Prune(DeployEnvironment env) => $$$"""
        prune_releases() {
          local current kept=1 seen name digest image
          current=$(field "$current_file" container)
          seen=" $(field "$current_file" digest) "
          while read -r name digest image; do
            [ -n "$name" ] && [ "$name" != "$current" ] || continue
            if [ -f "$history_file" ] && grep -q "\"digest\":\"$digest\"" "$history_file"; then
              case "$seen" in
                *" $digest "*) ;;
                *) if [ "$kept" -lt {{{env.KeepReleases}}} ]; then kept=$((kept + 1)); seen="$seen$digest "; continue; fi ;;
              esac
            fi
            say "pruning $name"
            "$docker" rm -f "$name" >/dev/null
            "$docker" image rm "$image" >/dev/null 2>&1 || true
          done < <(env_containers --all '{{.Names}} {{.Label "webapp.digest"}} {{.Label "webapp.image"}}')
        }

        """;

    public static string Logs(int lines) => $$"""
        show_logs() {
          local name
          name=$(field "$current_file" container)
          [ -n "$name" ] || fail "nothing is deployed on $env_name"
          "$docker" logs --tail {{lines}} "$name" 2>&1 | sed 's/^/webapp-deploy: log: /'
        }

        """;

    public const string RemoveAll = """
        remove_env_containers() {
          local name image
          while read -r name image; do
            [ -n "$name" ] || continue
            say "removing $name"
            "$docker" rm -f "$name" >/dev/null
            "$docker" image rm "$image" >/dev/null 2>&1 || true
          done < <(env_containers --all '{{.Names}} {{.Label "webapp.image"}}')
        }

        """;
}
