namespace Delivery.Core;

/// <summary>
/// Runs a .NET local tool pinned in <c>.config/dotnet-tools.json</c> (as NUKE runs MinVer): <c>dotnet tool restore</c>
/// once when the tool is not restored yet, then <c>dotnet &lt;command&gt;</c> from the manifest's directory.
/// </summary>
public static class DotnetTool
{
    const string ManifestPath = ".config/dotnet-tools.json";
    static readonly SemaphoreSlim Restoring = new(1, 1);
    static readonly HashSet<string> Restored = [];

    /// <summary>The nearest directory at or above one of <paramref name="starts"/> whose tool manifest names
    /// <paramref name="package"/>, or null.</summary>
    public static string? FindManifestDirectory(string package, params string?[] starts)
    {
        foreach (var start in starts)
            for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var manifest = Path.Combine(dir.FullName, ManifestPath);
                if (File.Exists(manifest) && File.ReadAllText(manifest).Contains($"\"{package}\"", StringComparison.OrdinalIgnoreCase))
                    return dir.FullName;
            }
        return null;
    }

    /// <summary>Runs the tool; a non-zero exit is returned, not thrown (the caller knows what it means).</summary>
    public static async Task<ProcessResult> RunAsync(string manifestDirectory, string command, IEnumerable<string> arguments, CancellationToken ct = default)
    {
        await RestoreAsync(manifestDirectory, ct);
        return await ProcessRunner.RunAsync("dotnet", [command, .. arguments], new ProcessOptions { WorkingDirectory = manifestDirectory }, ct);
    }

    /// <summary><c>dotnet tool restore</c>, once per manifest and process; it is quick when everything is there.</summary>
    public static async Task RestoreAsync(string manifestDirectory, CancellationToken ct = default)
    {
        await Restoring.WaitAsync(ct);
        try
        {
            if (Restored.Contains(manifestDirectory)) return;
            var restore = await ProcessRunner.RunAsync("dotnet", ["tool", "restore"], new ProcessOptions { WorkingDirectory = manifestDirectory }, ct);
            if (!restore.Succeeded)
                throw new DeliveryException($"'dotnet tool restore' failed in {manifestDirectory}: {restore.Tail(3)}");
            Restored.Add(manifestDirectory);
        }
        finally
        {
            Restoring.Release();
        }
    }
}
