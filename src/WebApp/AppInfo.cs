using System.Reflection;

namespace WebApp;

/// <summary>
/// What is running: the version and commit the build stamped into the assembly, the environment and the start time.
/// One instance feeds the footer, <c>/version</c> and the <c>app_info</c> metric so they can never disagree.
/// </summary>
public sealed record AppInfo(string Version, string Commit, string Environment, DateTimeOffset StartedAt)
{
    public const string UnknownCommit = "unknown";
    public const string UnknownVersion = "0.0.0";
    public const int ShortCommitLength = 7;

    public static AppInfo FromAssembly(Assembly assembly, string environment, DateTimeOffset startedAt)
    {
        var informationalVersion = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var sourceRevisionId = assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SourceRevisionId")?.Value;
        return Create(informationalVersion, sourceRevisionId, environment, startedAt);
    }

    public static AppInfo Create(string? informationalVersion, string? sourceRevisionId, string environment, DateTimeOffset startedAt) =>
        new(VersionFrom(informationalVersion), ShortCommitFrom(sourceRevisionId), environment, startedAt.ToUniversalTime());

    /// <summary>"1.4.0-rc.1+3f2a9c1" → "1.4.0-rc.1": build metadata is dropped, the commit is shown on its own.</summary>
    public static string VersionFrom(string? informationalVersion)
    {
        var version = informationalVersion?.Trim() ?? "";
        var plus = version.IndexOf('+');
        if (plus >= 0)
            version = version[..plus];
        return version.Length == 0 ? UnknownVersion : version;
    }

    public static string ShortCommitFrom(string? sourceRevisionId)
    {
        var sha = sourceRevisionId?.Trim() ?? "";
        if (sha.Length == 0)
            return UnknownCommit;
        return sha.Length <= ShortCommitLength ? sha : sha[..ShortCommitLength];
    }

    public static DateTimeOffset CurrentProcessStartTime()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }

    /// <summary>ISO-8601 UTC, as served by <c>/version</c>.</summary>
    public string StartedAtIso => StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
