using System.Diagnostics;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>
/// A second Docker engine started by the test: its own data root, exec root, pid file, unix socket and bridge
/// (iptables off; published ports go through docker-proxy). Needs root, like dockerd itself.
/// </summary>
public sealed class PrivateDockerd : IAsyncDisposable
{
    readonly string _dir;
    readonly string _bridge;
    readonly string _subnet;
    public string Host => $"unix://{_dir}/docker.sock";

    PrivateDockerd(string dir, string bridge, string subnet)
    {
        _dir = dir;
        _bridge = bridge;
        _subnet = subnet;
    }

    public static async Task<PrivateDockerd> StartAsync(string runId)
    {
        Tools.Require("dockerd", "docker.io");
        var ip = Tools.Require("ip", "iproute2");
        Assert.True(Environment.UserName == "root", "the dockerd restart test starts a private dockerd and needs root");
        var dir = Path.Combine("/tmp", $"hdt{runId}-dockerd");
        Directory.CreateDirectory(dir);
        var routes = await Tools.RunChecked(ip, "-4", "route");
        var octet = Enumerable.Range(100, 150).First(n => !routes.Contains($"172.30.{n}."));
        var daemon = new PrivateDockerd(dir, $"hdt{runId}", $"172.30.{octet}.1/24");
        await Tools.RunChecked(ip, "link", "add", "name", daemon._bridge, "type", "bridge");
        await Tools.RunChecked(ip, "addr", "add", daemon._subnet, "dev", daemon._bridge);
        await Tools.RunChecked(ip, "link", "set", daemon._bridge, "up");
        await daemon.LaunchAsync();
        return daemon;
    }

    async Task LaunchAsync()
    {
        // setsid: the engine gets its own session, so signals meant for the test run never reach it.
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "dockerd", "--data-root", $"{_dir}/data", "--exec-root", $"{_dir}/exec", "--pidfile", $"{_dir}/docker.pid",
                     "--host", Host, "--bridge", _bridge, "--iptables=false", "--ip-masq=false" })
            psi.ArgumentList.Add(a);
        var log = new FileStream($"{_dir}/dockerd.log", FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var process = Process.Start(psi)!;
        _ = process.StandardError.BaseStream.CopyToAsync(log);
        _ = process.StandardOutput.BaseStream.CopyToAsync(log);
        for (var i = 0; i < 150; i++)
        {
            var version = await Tools.Run("docker", "--host", Host, "version", "--format", "{{.Server.Version}}");
            if (version.Succeeded) return;
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"the private dockerd did not come up; see {_dir}/dockerd.log");
    }

    int? Pid() => File.Exists($"{_dir}/docker.pid") && int.TryParse(File.ReadAllText($"{_dir}/docker.pid").Trim(), out var pid) ? pid : null;

    async Task StopAsync()
    {
        if (Pid() is not { } pid) return;
        await Tools.Run("kill", "-TERM", pid.ToString());
        for (var i = 0; i < 300 && Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z"); i++)
            await Task.Delay(100);
    }

    /// <summary>Stops the engine (SIGTERM stops its containers) and starts it again with the same settings.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        var ids = await Tools.Run("docker", "--host", Host, "ps", "--all", "--quiet");
        foreach (var id in ids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            await Tools.Run("docker", "--host", Host, "rm", "--force", id.Trim());
        await StopAsync();
        await Tools.Run("ip", "link", "del", _bridge);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
