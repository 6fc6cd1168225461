using System.Globalization;

namespace Delivery.Versioning;

/// <summary>The version of one build, with the forms .NET, container tags and release notes need.</summary>
public sealed record VersionInfo
{
    /// <summary>Used when the version comes from an override and the commit is not known.</summary>
    public const string UnknownSha = "unknown";

    /// <summary>The calculated version; build metadata from a tag on HEAD is kept, as MinVer does.</summary>
    public required SemanticVersion Version { get; init; }
    /// <summary>Commits between HEAD and the tag the version came from (or the root commit when there is none).</summary>
    public required int Height { get; init; }
    public required string Sha { get; init; }
    public required string ShortSha { get; init; }
    /// <summary>The tag the version came from, or null when no version tag was found (or the version was overridden).</summary>
    public string? Tag { get; init; }
    /// <summary>Null when HEAD is detached and CI doesn't say which branch it built.</summary>
    public string? BranchName { get; init; }
    /// <summary>HEAD is exactly a release (non-pre-release) tag, or the override is a release version.</summary>
    public required bool IsRelease { get; init; }
    /// <summary>Tracked files have uncommitted changes.</summary>
    public required bool IsDirty { get; init; }

    public string SemVer => Version.ToString();
    // The commit joins existing build metadata with a '.', as the .NET SDK does with SourceRevisionId.
    public string FullSemVer => WithMetadata(ShortSha);
    public string InformationalVersion => WithMetadata(Sha);
    /// <summary>Things the user should know, e.g. that a repository without commits got the default version.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    string WithMetadata(string sha) => SemVer + (Version.BuildMetadata is null ? "+" : ".") + sha;
    // Major only, as the .NET library guidance and MinVer do: minor/patch upgrades then need no binding redirects.
    public string AssemblyVersion => string.Create(CultureInfo.InvariantCulture, $"{Major}.0.0.0");
    public string FileVersion => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}.0");
    public int Major => Version.Major;
    public int Minor => Version.Minor;
    public int Patch => Version.Patch;
    /// <summary>The pre-release identifiers (e.g. <c>alpha.0.3</c>); empty for a release.</summary>
    public string PreRelease => Version.PreRelease;

    /// <summary>The MSBuild properties that stamp this version into assemblies (<c>-p:Name=Value</c> each).</summary>
    public IReadOnlyDictionary<string, string> MSBuildProperties => new Dictionary<string, string>
    {
        ["Version"] = SemVer,
        ["AssemblyVersion"] = AssemblyVersion,
        ["FileVersion"] = FileVersion,
        ["InformationalVersion"] = InformationalVersion,
        ["SourceRevisionId"] = Sha,
    };
}
