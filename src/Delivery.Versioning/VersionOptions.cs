namespace Delivery.Versioning;

/// <summary>Which part of a release version is bumped for the commits after it.</summary>
public enum VersionPart
{
    Patch,
    Minor,
    Major,
}

public sealed record VersionOptions
{
    public static VersionOptions Default { get; } = new();

    /// <summary>
    /// The prefix version tags carry (MinVer's <c>--tag-prefix</c>). None by default, as in MinVer: then <c>v1.0.0</c>
    /// is not a version tag; set it to "v" for v-prefixed tags.
    /// </summary>
    public string TagPrefix { get; init; } = "";

    /// <summary>What to bump after a release tag: 1.2.3 + height → 1.2.4-alpha.0.height by default.</summary>
    public VersionPart AutoIncrement { get; init; } = VersionPart.Patch;

    /// <summary>The pre-release used after a release tag and when there is no tag at all.</summary>
    public string DefaultPreReleaseIdentifiers { get; init; } = "alpha.0";

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
