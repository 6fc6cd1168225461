using Delivery.Core;

namespace Delivery.Docker;

/// <summary>Facts about the build machine that decide how to get a Docker Engine (and a registry) running.</summary>
public sealed record MachineFacts(
    bool EngineReachable,
    bool EngineIsLocalSocket,
    bool DockerdInstalled,
    bool DockerdRunning,
    bool RegistryInstalled,
    bool IsRoot,
    bool IsDebianLike);

/// <summary>What to do: install packages, start dockerd, or stop with <see cref="Failure"/>.</summary>
public sealed record PrerequisitePlan(IReadOnlyList<string> PackagesToInstall, bool StartDaemon, bool WaitForDaemon, string? Failure)
{
    public bool NothingToDo => PackagesToInstall.Count == 0 && !StartDaemon && !WaitForDaemon && Failure is null;
}

/// <summary>
/// Makes sure the build machine can run the Docker targets: a reachable engine (and, when asked, the Debian
/// docker-registry). When the engine is down and we are root on Debian/Ubuntu, installs what is missing and starts
/// dockerd without systemd; otherwise fails with one line that says what to install.
/// </summary>
public static class DockerPrerequisites
{
    public const string RegistryExecutable = "/usr/bin/docker-registry";
    public const string DaemonLog = "/var/log/dockerd.log";
    static readonly TimeSpan DaemonStartTimeout = TimeSpan.FromSeconds(30);

    public static async Task EnsureAsync(DockerEngineClient docker, bool requireRegistry = true, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var reachable = await docker.TryPingAsync(TimeSpan.FromSeconds(5), cancellationToken);
        var registryInstalled = File.Exists(RegistryExecutable);
        if (reachable && (registryInstalled || !requireRegistry)) return;

        var facts = new MachineFacts(
            reachable,
            docker.Endpoint.IsDefaultLocalSocket,
            FindOnPath("dockerd") is not null,
            IsProcessRunning("dockerd"),
            registryInstalled,
            Environment.IsPrivilegedProcess,
            IsDebianLike(ReadOsRelease()));
        var plan = Plan(facts, requireRegistry, docker.Endpoint);
        if (plan.Failure is not null) throw new DeliveryException(plan.Failure);

        if (plan.PackagesToInstall.Count > 0) await InstallAsync(plan.PackagesToInstall, log, cancellationToken);
        if (plan.StartDaemon) await StartDaemonAsync(log, cancellationToken);
        if (plan.StartDaemon || plan.WaitForDaemon) await WaitForEngineAsync(docker, cancellationToken);
    }

    /// <summary>The decision, from facts alone.</summary>
    public static PrerequisitePlan Plan(MachineFacts facts, bool requireRegistry, DockerEndpoint endpoint)
    {
        var packages = new List<string>();
        if (!facts.EngineReachable && !facts.DockerdInstalled && facts.EngineIsLocalSocket) packages.Add("docker.io");
        if (requireRegistry && !facts.RegistryInstalled) packages.Add("docker-registry");

        if (!facts.EngineReachable && !facts.EngineIsLocalSocket)
            return Fail($"Docker Engine at {endpoint} is not reachable: start it there, or unset DOCKER_HOST to use the local engine");

        var canInstall = facts.IsRoot && facts.IsDebianLike;
        if (packages.Count > 0 && !canInstall)
            return Fail(facts.IsDebianLike
                ? $"Missing {string.Join(" and ", packages)}: run 'sudo apt-get install -y {string.Join(' ', packages)}'{(facts.EngineReachable ? "" : " and start dockerd")}, then build again"
                : $"Missing {string.Join(" and ", packages.Select(Describe))}: install {(packages.Count > 1 ? "them" : "it")}{(facts.EngineReachable ? "" : " and start dockerd")}, then build again");

        if (facts.EngineReachable) return new PrerequisitePlan(packages, StartDaemon: false, WaitForDaemon: false, null);
        if (facts.DockerdRunning) return new PrerequisitePlan(packages, StartDaemon: false, WaitForDaemon: true, null);
        if (!facts.IsRoot)
            return Fail($"Docker Engine is not running at {endpoint}: start it (sudo systemctl start docker, or sudo dockerd) and build again");
        return new PrerequisitePlan(packages, StartDaemon: true, WaitForDaemon: false, null);

        static PrerequisitePlan Fail(string message) => new([], false, false, message);
        static string Describe(string package) => package == "docker.io" ? "Docker Engine (dockerd)" : "the Docker registry (docker-registry)";
    }

    public static bool IsDebianLike(IReadOnlyDictionary<string, string> osRelease)
    {
        var ids = (osRelease.GetValueOrDefault("ID", "") + " " + osRelease.GetValueOrDefault("ID_LIKE", "")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return ids.Any(id => id is "debian" or "ubuntu");
    }

    public static IReadOnlyDictionary<string, string> ReadOsRelease(string path = "/etc/os-release")
    {
        var values = new Dictionary<string, string>();
        if (!File.Exists(path)) return values;
        foreach (var line in File.ReadAllLines(path))
        {
            var eq = line.IndexOf('=');
            if (eq <= 0 || line.StartsWith('#')) continue;
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"', '\'');
        }
        return values;
    }

    static async Task InstallAsync(IReadOnlyList<string> packages, Action<string>? log, CancellationToken cancellationToken)
    {
        log?.Invoke($"Installing {string.Join(", ", packages)} with apt-get");
        var options = new ProcessOptions { Environment = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" }, OnOutput = log };
        var install = await ProcessRunner.RunAsync("apt-get", ["install", "-y", "--no-install-recommends", .. packages], options, cancellationToken);
        if (install.Succeeded) return;
        // A fresh machine may not have package lists yet.
        await ProcessRunner.RunCheckedAsync("apt-get", ["update"], options, cancellationToken);
        await ProcessRunner.RunCheckedAsync("apt-get", ["install", "-y", "--no-install-recommends", .. packages], options, cancellationToken);
    }

    static async Task StartDaemonAsync(Action<string>? log, CancellationToken cancellationToken)
    {
        var dockerd = FindOnPath("dockerd") ?? throw new DeliveryException("dockerd is not on PATH after installing docker.io");
        log?.Invoke($"Starting {dockerd} (log: {DaemonLog})");
        // Detached from this process (no systemd here), so the engine outlives the build.
        await ProcessRunner.RunCheckedAsync("setsid",
            ["-f", "/bin/sh", "-c", "exec \"$1\" >>\"$2\" 2>&1 </dev/null", "dockerd", dockerd, DaemonLog],
            cancellationToken: cancellationToken);
    }

    static async Task WaitForEngineAsync(DockerEngineClient docker, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + DaemonStartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await docker.TryPingAsync(TimeSpan.FromSeconds(2), cancellationToken)) return;
            await Task.Delay(250, cancellationToken);
        }
        var tail = File.Exists(DaemonLog) ? string.Join(" | ", File.ReadLines(DaemonLog).Where(l => l.Trim().Length > 0).TakeLast(2)) : "no log";
        throw new DeliveryException($"Docker Engine did not answer at {docker.Endpoint} within {DaemonStartTimeout.TotalSeconds:0} s: {tail}");
    }

    static string? FindOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    static bool IsProcessRunning(string name)
    {
        if (!Directory.Exists("/proc")) return false;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == name) return true;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return false;
    }
}
