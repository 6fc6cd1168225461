using Delivery.Core;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>
/// One isolated "host" for a test: its own state root (temp dir), app name (so containers, labels and proxy sections
/// are unique to the run), free public ports for both environments and short timeouts. Dispose tears it all down
/// through the real teardown script, then sweeps anything a failed test left behind.
/// </summary>
public sealed class HostTestBed : IAsyncDisposable
{
    readonly string _dir;
    public HostSettings Settings { get; }
    public DeployEnvironment Staging { get; }
    public DeployEnvironment Production { get; }
    public LocalHost Host { get; } = new();
    public Deployer Deployer { get; }
    public List<string> Log { get; } = [];
    public HostFixture Fixture { get; }

    public HostTestBed(HostFixture fixture, int number, string? dockerHost)
    {
        Fixture = fixture;
        _dir = Directory.CreateTempSubdirectory($"hdt{fixture.RunId}-").FullName;
        Settings = new HostSettings
        {
            StateRoot = Path.Combine(_dir, "root"),
            AppName = $"hdt{fixture.RunId}-{number}",
            PublicBindAddress = "127.0.0.1",
            PrivatePortFirst = 21000 + number % 40 * 100,
            PrivatePortLast = 21000 + number % 40 * 100 + 99,
            DockerHost = dockerHost,
        };
        Staging = DeployEnvironment.Staging with
        {
            PublicPort = Tools.FreePort(), HealthTimeout = TimeSpan.FromSeconds(20), DrainTimeout = TimeSpan.FromSeconds(5),
            StopTimeout = TimeSpan.FromSeconds(5), Memory = "64m", Cpus = "0.5",
        };
        Production = DeployEnvironment.Production with
        {
            PublicPort = Tools.FreePort(), HealthTimeout = TimeSpan.FromSeconds(20), DrainTimeout = TimeSpan.FromSeconds(5),
            StopTimeout = TimeSpan.FromSeconds(5), Memory = "64m", Cpus = "0.5",
        };
        Deployer = new Deployer(Host, Settings, line => { lock (Log) Log.Add(line); });
    }

    public string StateRoot => Settings.StateRoot;
    public string Docker => Tools.Require("docker", "docker.io");

    public DeployEnvironment Env(string name) => name == "staging" ? Staging : Production;

    public Deployer WithSettings(HostSettings settings) => new(Host, settings, line => { lock (Log) Log.Add(line); });

    public Task<DeployOutcome> Deploy(DeployEnvironment env, PinnedImage release, DeployOptions? options = null) =>
        Deployer.DeployAsync(env, release, options ?? new DeployOptions { DeployedBy = "tester" });

    public async Task<DeliveryException> DeployFails(DeployEnvironment env, PinnedImage release, DeployOptions? options = null) =>
        await Assert.ThrowsAnyAsync<DeliveryException>(() => Deploy(env, release, options));

    public async Task<string> Version(DeployEnvironment env)
    {
        var (status, body) = await Tools.Get($"http://127.0.0.1:{env.PublicPort}/version");
        return status == 200 ? body : $"HTTP {status}";
    }

    public string[] History(DeployEnvironment env)
    {
        var file = Path.Combine(StateRoot, "envs", env.Name, "history.jsonl");
        return File.Exists(file) ? File.ReadAllLines(file) : [];
    }

    public string? StateFile(DeployEnvironment env, string name)
    {
        var file = Path.Combine(StateRoot, "envs", env.Name, name);
        return File.Exists(file) ? File.ReadAllText(file) : null;
    }

    /// <summary>Names of this bed's containers for an environment (running and stopped).</summary>
    public async Task<string[]> Containers(DeployEnvironment env, bool all = true)
    {
        var args = new List<string> { "ps", "--filter", $"label=webapp.app={Settings.AppName}", "--filter", $"label=webapp.environment={env.Name}", "--format", "{{.Names}} {{.Label \"webapp.version\"}} {{.State}}" };
        if (all) args.Insert(1, "--all");
        var output = await Tools.RunChecked(Docker, [.. DockerHostArgs(), .. args]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>This bed's data stores (volumes labelled with its app name), sorted.</summary>
    public async Task<string[]> DataVolumes() =>
        [.. (await Tools.RunChecked(Docker, [.. DockerHostArgs(), "volume", "ls", "--quiet", "--filter", $"label=webapp.app={Settings.AppName}"]))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Trim()).Order(StringComparer.Ordinal)];

    public string[] DockerHostArgs() => Settings.DockerHost is null ? [] : ["--host", Settings.DockerHost];

    public int? ProxyPid()
    {
        var file = Path.Combine(StateRoot, "proxy", "haproxy.pid");
        if (!File.Exists(file)) return null;
        return int.TryParse(File.ReadAllText(file).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(), out var pid) ? pid : null;
    }

    public string Dump() => string.Join("\n", LogSoFar());

    /// <summary>The lines so far, while a deploy may still be adding to <see cref="Log"/> (a List read unlocked during
    /// an Add can see a slot that is counted but not yet written).</summary>
    public string[] LogSoFar()
    {
        lock (Log) return [.. Log];
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Deployer.TeardownAllAsync(new DeployOptions { DeployedBy = "tester", LockWait = TimeSpan.FromSeconds(30) });
        }
        catch (DeliveryException)
        {
            // Swept below.
        }
        var docker = Docker;
        var leftovers = await Tools.Run(docker, [.. DockerHostArgs(), "ps", "--all", "--quiet", "--filter", $"label=webapp.app={Settings.AppName}"]);
        foreach (var id in leftovers.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            await Tools.Run(docker, [.. DockerHostArgs(), "rm", "--force", id.Trim()]);
        foreach (var volume in await DataVolumes())
            await Tools.Run(docker, [.. DockerHostArgs(), "volume", "rm", "--force", volume]);
        // The proxy this bed's scripts started, by its recorded PID (never by name).
        if (ProxyPid() is { } pid && IsHaproxy(pid))
            await Tools.Run("kill", "-TERM", pid.ToString());
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static bool IsHaproxy(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim() == "haproxy" && ProcessState.Running(pid);
        }
        catch (IOException) { return false; }
    }
}
