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
    /// The prefix version tags carry. Null (the default) accepts both unprefixed tags and a <c>v</c> prefix;
    /// any other value, including "", accepts only that prefix.
    /// </summary>
    public string? TagPrefix { get; init; }

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

    internal IReadOnlyList<string> AcceptedTagPrefixes => TagPrefix is null ? ["", "v"] : [TagPrefix];

    internal string? ReadEnvironment(string name) =>
        Environment is null
            ? System.Environment.GetEnvironmentVariable(name)
            : Environment.TryGetValue(name, out var value) ? value : null;
}
