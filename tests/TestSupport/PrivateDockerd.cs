using System.Diagnostics;
using Delivery.Core;
using Delivery.Provisioning;

namespace TestSupport;

/// <summary>
/// A second Docker engine started by a test: its own data root, exec root, pid file, unix socket and bridge (iptables
/// off; published ports go through docker-proxy). It stands in for a fresh CI runner or a host whose engine restarts.
/// Needs root, like dockerd itself: as another user its privileged steps go through <c>sudo -n</c> (GitHub's
/// runners) and its socket belongs to the docker group.
/// </summary>
public sealed class PrivateDockerd : IAsyncDisposable
{
    /// <summary>Held while a bridge's subnet is chosen and claimed, so test projects running side by side never pick the same one.</summary>
    static readonly string SubnetLock = Path.Combine(Path.GetTempPath(), "testsupport-private-dockerd.lock");

    readonly string directory;
    readonly string bridge;
    readonly IReadOnlyDictionary<string, string> environment;

    PrivateDockerd(string directory, string bridge, IReadOnlyDictionary<string, string> environment)
    {
        this.directory = directory;
        this.bridge = bridge;
        this.environment = environment;
    }

    public string Host => $"unix://{directory}/docker.sock";

    /// <summary>Starts an empty engine; <paramref name="prefix"/> (letters and digits) names its bridge and folder.
    /// <paramref name="environment"/> is the engine's own (e.g. HTTPS_PROXY, SSL_CERT_FILE for its registry traffic).</summary>
    public static async Task<PrivateDockerd> StartAsync(string prefix = "tsd", IReadOnlyDictionary<string, string>? environment = null)
    {
        Tools.Require("dockerd", "docker.io");
        var ip = Tools.Require("ip", "iproute2");
        Assert.True(await Privileged.DetectAsync() != Privilege.None, "a private dockerd needs root or password-less sudo");
        // A Linux interface name has at most 15 characters.
        var id = (prefix + Tools.NewRunId())[..Math.Min(15, prefix.Length + 6)];
        var daemon = new PrivateDockerd(Path.Combine(Path.GetTempPath(), $"{id}-dockerd"), id, environment ?? new Dictionary<string, string>());
        Directory.CreateDirectory(daemon.directory);
        // Its own bridge: with `--bridge none` dockerd deletes the default docker0, which the system engine needs.
        await using (await HoldAsync(SubnetLock))
        {
            var routes = await Tools.RunChecked(ip, "-4", "route");
            var octet = Enumerable.Range(100, 150).First(n => !routes.Contains($"172.30.{n}."));
            await Privileged.RunCheckedAsync("a bridge for the private dockerd", ip, "link", "add", "name", daemon.bridge, "type", "bridge");
            await Privileged.RunCheckedAsync("a bridge for the private dockerd", ip, "addr", "add", $"172.30.{octet}.1/24", "dev", daemon.bridge);
            await Privileged.RunCheckedAsync("a bridge for the private dockerd", ip, "link", "set", daemon.bridge, "up");
        }
        try
        {
            await daemon.LaunchAsync();
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
        return daemon;
    }

    static async Task<FileStream> HoldAsync(string path)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (i < 300)
            {
                await Task.Delay(100);
            }
        }
    }

    async Task LaunchAsync()
    {
        // setsid: the engine gets its own session, so signals meant for the test run never reach it.
        var group = Environment.IsPrivilegedProcess ? [] : new[] { "--group", "docker" };
        var command = await Privileged.CommandAsync("a private dockerd", ["env", .. environment.Select(e => $"{e.Key}={e.Value}"), "setsid", "dockerd", "--data-root", $"{directory}/data", "--exec-root", $"{directory}/exec",
            "--pidfile", $"{directory}/docker.pid", "--host", Host, "--bridge", bridge, "--iptables=false", "--ip-masq=false", .. group]);
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        var log = new FileStream($"{directory}/dockerd.log", FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var process = Process.Start(start)!;
        _ = process.StandardError.BaseStream.CopyToAsync(log);
        _ = process.StandardOutput.BaseStream.CopyToAsync(log);
        for (var i = 0; i < 150; i++)
        {
            if ((await DockerAsync("version", "--format", "{{.Server.Version}}")).Succeeded) return;
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"the private dockerd did not come up; see {directory}/dockerd.log");
    }

    /// <summary>The docker CLI against this engine.</summary>
    public Task<ProcessResult> DockerAsync(params string[] arguments) => ProcessRunner.RunAsync("docker", ["--host", Host, .. arguments]);

    int? Pid() => File.Exists($"{directory}/docker.pid") && int.TryParse(File.ReadAllText($"{directory}/docker.pid").Trim(), out var pid) ? pid : null;

    async Task StopAsync()
    {
        if (Pid() is not { } pid) return;
        await Privileged.RunAsync("stopping the private dockerd", "kill", "-TERM", pid.ToString());
        for (var i = 0; i < 300 && ProcessState.Running(pid); i++)
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
        if (Pid() is not null)
        {
            var ids = await DockerAsync("ps", "--all", "--quiet");
            foreach (var id in ids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await DockerAsync("rm", "--force", id.Trim());
        }
        await StopAsync();
        await Privileged.RunAsync("removing the private dockerd's bridge", "ip", "link", "del", bridge);
        await Privileged.RunAsync("removing the private dockerd's files", "rm", "-rf", directory);
    }
}
