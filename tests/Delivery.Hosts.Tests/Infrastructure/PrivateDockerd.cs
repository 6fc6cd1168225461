using System.Diagnostics;
using Delivery.Provisioning;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>
/// A second Docker engine started by the test: its own data root, exec root, pid file, unix socket and bridge
/// (iptables off; published ports go through docker-proxy). Needs root, like dockerd itself: as another user its
/// privileged steps go through <c>sudo -n</c> (GitHub's runners) and its socket belongs to the docker group.
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
        Assert.True(await Privileged.DetectAsync() != Privilege.None, "the dockerd restart test starts a private dockerd: it needs root or password-less sudo");
        var dir = Path.Combine("/tmp", $"hdt{runId}-dockerd");
        Directory.CreateDirectory(dir);
        var routes = await Tools.RunChecked(ip, "-4", "route");
        var octet = Enumerable.Range(100, 150).First(n => !routes.Contains($"172.30.{n}."));
        var daemon = new PrivateDockerd(dir, $"hdt{runId}", $"172.30.{octet}.1/24");
        await Privileged.RunCheckedAsync("a bridge for the private dockerd", ip, "link", "add", "name", daemon._bridge, "type", "bridge");
        await Privileged.RunCheckedAsync("a bridge for the private dockerd", ip, "addr", "add", daemon._subnet, "dev", daemon._bridge);
        await Privileged.RunCheckedAsync("a bridge for the private dockerd", ip, "link", "set", daemon._bridge, "up");
        await daemon.LaunchAsync();
        return daemon;
    }

    async Task LaunchAsync()
    {
        // setsid: the engine gets its own session, so signals meant for the test run never reach it.
        var group = Environment.IsPrivilegedProcess ? [] : new[] { "--group", "docker" };
        var command = await Privileged.CommandAsync("a private dockerd", ["setsid", "dockerd", "--data-root", $"{_dir}/data", "--exec-root", $"{_dir}/exec",
            "--pidfile", $"{_dir}/docker.pid", "--host", Host, "--bridge", _bridge, "--iptables=false", "--ip-masq=false", .. group]);
        var psi = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1))
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
        await Privileged.RunAsync("stopping the private dockerd", "kill", "-TERM", pid.ToString());
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
        await Privileged.RunAsync("removing the private dockerd's bridge", "ip", "link", "del", _bridge);
        await Privileged.RunAsync("removing the private dockerd's files", "rm", "-rf", _dir);
    }
}
