using System.Diagnostics;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>A real registry (Debian's docker-registry) on a free 127.0.0.1 port, storing in a temp dir.
/// dockerd treats 127.0.0.0/8 registries as insecure, so plain HTTP works without daemon configuration.</summary>
public sealed class TestRegistry : IAsyncDisposable
{
    readonly Process _process;
    readonly string _dir;

    public string Address { get; }

    TestRegistry(Process process, string dir, string address)
    {
        _process = process;
        _dir = dir;
        Address = address;
    }

    public static async Task<TestRegistry> StartAsync()
    {
        var binary = Tools.Require("docker-registry", "docker-registry");
        var dir = Directory.CreateTempSubdirectory("hdt-registry-").FullName;
        var port = Tools.FreePort();
        var config = Path.Combine(dir, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: {dir}/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(config);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new TestRegistry(process, dir, $"127.0.0.1:{port}");
        for (var i = 0; i < 100; i++)
        {
            if ((await Tools.Get($"http://{registry.Address}/v2/")).Status == 200) return registry;
            if (process.HasExited) break;
            await Task.Delay(100);
        }
        await registry.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start on {registry.Address}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
