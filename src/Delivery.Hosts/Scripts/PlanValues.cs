using Delivery.Hosts.Bake;

namespace Delivery.Hosts.Scripts;

/// <summary>The values plans offer to the host functions, by what they describe.</summary>
public static class PlanValues
{
    /// <summary>The values every plan may read: the host's, then the environment's.</summary>
    public static ScriptValues Of(HostSettings host, string deployedBy, DeployEnvironment? env)
    {
        var values = new ScriptValues()
            .Add("app", host.AppName)
            .Add("root", host.StateRoot)
            .Add("reads_host_config", host.ReadsHostConfig ? 1 : 0)
            .Add("host_config_file", HostSettings.HostConfigPath)
            .Add("docker_host", host.DockerHost ?? "")
            .Add("docker", host.Docker)
            .Add("haproxy", host.Haproxy)
            .Add("socat", host.Socat)
            .Add("curl", host.Curl)
            .Add("deployed_by", deployedBy)
            .Add("public_bind", host.PublicBindAddress)
            .Add("private_port_first", host.PrivatePortFirst)
            .Add("private_port_last", host.PrivatePortLast);
        if (env is null) return values;
        return values
            .Add("env_name", env.Name)
            .Add("public_port", env.PublicPort)
            .Add("container_port", env.ContainerPort)
            .Add("aspnetcore_environment", env.AspNetCoreEnvironment)
            .Add("health_path", env.HealthPath)
            .Add("health_timeout", DeployEnvironment.Seconds(env.HealthTimeout))
            .Add("drain_timeout", DeployEnvironment.Seconds(env.DrainTimeout))
            .Add("stop_timeout", DeployEnvironment.Seconds(env.StopTimeout))
            .Add("memory", env.Memory)
            .Add("cpus", env.Cpus)
            .Add("keep_releases", env.KeepReleases);
    }

    public static ScriptValues AddRelease(this ScriptValues values, string version, string digest, string image, string commit) =>
        values.Add("release_version", version).Add("release_digest", digest).Add("release_image", image).Add("release_commit", commit);

    public static ScriptValues AddBake(this ScriptValues values, BakeSettings bake, DeployEnvironment env) =>
        values.Add("metrics_path", env.MetricsPath)
            .Add("bake_ms", bake.Duration)
            .Add("bake_interval_ms", bake.Interval)
            .Add("bake_max_error_rate", bake.MaxErrorRate)
            .Add("bake_latency_ratio", bake.MaxLatencyRatio)
            .Add("bake_latency_floor", bake.LatencyFloor.TotalSeconds)
            .Add("bake_min_requests", bake.MinRequests)
            .Add("probe_paths", bake.ProbePaths)
            .AddJudge(bake);

}
