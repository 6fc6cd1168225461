using Delivery.Core;

namespace Delivery.Provisioning;

/// <summary>Reads the real machine into a <see cref="MachineState"/>. The engine ping comes from the caller, so this
/// library needs no Docker client.</summary>
public static class MachineSurvey
{
    static readonly string[] SystemDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>Browser commands in order of preference.</summary>
    static readonly string[] BrowserCommands =
        ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge", "microsoft-edge-stable"];

    public static async Task<MachineState> TakeAsync(EngineState engine, CancellationToken cancellationToken = default)
    {
        var executables = new Dictionary<string, string>();
        foreach (var name in Requirement.All.Where(r => r.Kind == RequirementKind.Tool).Select(r => r.Executable).Append("docker").Append("dockerd"))
            if (FindOnPath(name) is { } path && (name != "busybox" || Elf.IsStatic(path)))
                executables[name] = path;

        var browsers = new List<string>();
        var stubs = new List<string>();
        if (Environment.GetEnvironmentVariable(ProvisioningPlanner.BrowserVariable) is { Length: > 0 } chosen && File.Exists(chosen))
            browsers.Add(chosen);
        foreach (var command in BrowserCommands)
            if (FindOnPath(command) is { } path)
                (IsSnapStub(path) ? stubs : browsers).Add(path);

        return new MachineState
        {
            Os = OsRelease.Read(),
            Privilege = await DetectPrivilegeAsync(cancellationToken),
            User = Environment.UserName,
            Executables = executables,
            Engine = engine with { DaemonRunning = engine.DaemonRunning || IsProcessRunning("dockerd") },
            Browsers = browsers.Distinct().ToList(),
            SnapStubs = stubs,
        };
    }

    public static async Task<Privilege> DetectPrivilegeAsync(CancellationToken cancellationToken = default)
    {
        if (Environment.IsPrivilegedProcess) return Privilege.Root;
        if (FindOnPath("sudo") is not { } sudo) return Privilege.None;
        var check = await ProcessRunner.RunAsync(sudo, ["-n", "true"], cancellationToken: cancellationToken);
        return check.Succeeded ? Privilege.Sudo : Privilege.None;
    }

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Concat(SystemDirectories)
        .Select(dir => Path.Combine(dir, program))
        .FirstOrDefault(File.Exists);

    /// <summary>Ubuntu's chromium-browser deb (since 19.10) is a script or link that only starts the snap.</summary>
    public static bool IsSnapStub(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        if (target.StartsWith("/snap/", StringComparison.Ordinal)) return true;
        using var file = File.OpenRead(target);
        var head = new byte[Math.Min(file.Length, 64 * 1024)];
        file.ReadExactly(head);
        return head.Length > 1 && head[0] == '#' && head[1] == '!' && System.Text.Encoding.UTF8.GetString(head).Contains("/snap/", StringComparison.Ordinal);
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
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return false;
    }
}
