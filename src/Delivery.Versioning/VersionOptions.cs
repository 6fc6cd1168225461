namespace Delivery.Versioning;

public sealed record VersionOptions
{
    public static VersionOptions Default { get; } = new();

    /// <summary>A SemVer string used as is, without reading git (e.g. building from a source tarball).</summary>
    public string? Override { get; init; }

    /// <summary>
    /// Where CI variables are read from (the branch name when HEAD is detached). Null reads the process environment.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>The directory whose <c>.config/dotnet-tools.json</c> pins minver-cli; null finds the nearest one above
    /// the running program, the current directory or the repository.</summary>
    public string? ToolManifestDirectory { get; init; }

    internal string? ReadEnvironment(string name) =>
        Environment is null
            ? System.Environment.GetEnvironmentVariable(name)
            : Environment.TryGetValue(name, out var value) ? value : null;
}
