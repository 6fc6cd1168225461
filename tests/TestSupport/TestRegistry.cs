using System.Diagnostics;

namespace TestSupport;

/// <summary>A real registry (Debian's docker-registry) on a free 127.0.0.1 port, storing in a temp dir.
/// dockerd treats 127.0.0.0/8 registries as insecure, so plain HTTP works without daemon configuration.</summary>
public sealed class TestRegistry : IAsyncDisposable
{
    readonly Process process;
    readonly string directory;

    public string Address { get; }

    TestRegistry(Process process, string directory, string address)
    {
        this.process = process;
        this.directory = directory;
        Address = address;
    }

    public static async Task<TestRegistry> StartAsync()
    {
        var binary = Tools.Require("docker-registry", "docker-registry");
        var directory = Directory.CreateTempSubdirectory("test-registry-").FullName;
        var port = Tools.FreePort();
        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: {directory}/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new TestRegistry(process, directory, $"127.0.0.1:{port}");
        for (var i = 0; i < 100; i++)
        {
            if ((await Tools.Get($"http://{registry.Address}/v2/")).Status == 200) return registry;
            if (process.HasExited) break;
            await Task.Delay(100);
        }
        await registry.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start on {registry.Address}");
    }

    /// <summary>The registry's own answer: the Docker-Content-Digest of the tag's manifest, or null when it has none.</summary>
    public async Task<string?> ManifestDigestAsync(string repository, string tag)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{Address}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
