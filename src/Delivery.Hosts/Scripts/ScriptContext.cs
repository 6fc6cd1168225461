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
