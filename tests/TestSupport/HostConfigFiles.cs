using System.Text;
using System.Text.Json.Nodes;

namespace TestSupport;

/// <summary>The files a fake instance's scripts read when it deploys from a registry with a standing login into
/// an engine of its own: a docker config (what <c>docker login</c> writes, an ECR credential helper's job on EC2)
/// and the <c>host.env</c> that points the scripts at both.</summary>
public static class HostConfigFiles
{
    /// <summary>Writes <paramref name="directory"/>/config.json with a login for <paramref name="registry"/>; returns the folder.</summary>
    public static async Task<string> WriteDockerLoginAsync(string directory, string registry, string username, string password)
    {
        Directory.CreateDirectory(directory);
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
        await File.WriteAllTextAsync(Path.Combine(directory, "config.json"),
            new JsonObject { ["auths"] = new JsonObject { [registry] = new JsonObject { ["auth"] = auth } } }.ToJsonString());
        return directory;
    }

    /// <summary>Writes <paramref name="path"/>: the host's production on a claimed loopback port, through
    /// <see cref="HostSettings.DockerHost"/> and <paramref name="dockerConfig"/>; returns that port.</summary>
    public static async Task<int> WriteProductionHostEnvAsync(string path, HostSettings host, string dockerConfig)
    {
        var port = TestPorts.Next();
        await File.WriteAllTextAsync(path, $"""
            state_root={host.StateRoot}
            app={host.AppName}
            production_port={port}
            public_bind=127.0.0.1
            docker_host={host.DockerHost}
            docker_config={dockerConfig}

            """);
        return port;
    }
}
