using static Delivery.Hosts.ShellQuote;

namespace Delivery.Hosts.Scripts;

/// <summary>The variables every action reads: host paths and programs, then the environment's own values.</summary>
public static class ScriptContext
{
    public static string Host(HostSettings host, string deployedBy) =>
        (host.DockerHost is null ? "" : $"export DOCKER_HOST={Quote(host.DockerHost)}\n") +
        $$"""
        app={{Quote(host.AppName)}}
        root={{Quote(host.StateRoot)}}

        """ +
        HostConfig(host) +
        $$"""
        proxy_dir="$root/proxy"
        proxy_conf_dir="$proxy_dir/conf.d"
        proxy_socket="$proxy_dir/admin.sock"
        proxy_pidfile="$proxy_dir/haproxy.pid"
        proxy_lock_dir="$proxy_dir/lock"
        docker={{Quote(host.Docker)}}
        haproxy={{Quote(host.Haproxy)}}
        socat={{Quote(host.Socat)}}
        curl={{Quote(host.Curl)}}
        deployed_by={{Quote(deployedBy)}}

        """;

    public static string Environment(HostSettings host, DeployEnvironment env) =>
        $$"""
        env_name={{Quote(env.Name)}}
        env_dir="$root/envs/$env_name"
        current_file="$env_dir/current"
        previous_file="$env_dir/previous"
        history_file="$env_dir/history.jsonl"
        lock_dir="$env_dir/lock"
        backend="$app-$env_name"
        proxy_fragment="$proxy_conf_dir/$backend.cfg"
        public_port={{env.PublicPort}}
        public_bind={{Quote(host.PublicBindAddress)}}

        """ +
        (host.ReadsHostConfig
            ? "public_port=$(host_value \"${env_name}_port\" \"$public_port\")\npublic_bind=$(host_value public_bind \"$public_bind\")\n"
            : "");

    /// <summary>
    /// A host that describes itself (an EC2 instance, or a fake one in tests): ConfigureHost writes key=value lines
    /// to <see cref="HostSettings.HostConfigPath"/> (or the file WEBAPP_HOST_CONFIG names), and they override the
    /// rendered defaults, so one script text serves every instance of a fleet.
    /// </summary>
    static string HostConfig(HostSettings host) =>
        !host.ReadsHostConfig ? "" :
        $$"""
        host_config="${WEBAPP_HOST_CONFIG:-{{HostSettings.HostConfigPath}}}"
        host_value() {
          local v=''
          [ -f "$host_config" ] && v=$(sed -n "s/^$1=//p" "$host_config" | tail -n 1)
          printf '%s' "${v:-$2}"
        }
        app=$(host_value app "$app")
        root=$(host_value state_root "$root")

        """;

    /// <summary>The release a deploy installs; a rollback sets the same variables from a retained container instead.</summary>
    public static string Release(Release release) =>
        $$"""
        release_version={{Quote(release.Version)}}
        release_digest={{Quote(release.Digest)}}
        release_image={{Quote(release.ImageReference)}}
        release_commit={{Quote(release.Commit ?? "")}}

        """;
}
