using Delivery.Core;

namespace Delivery.Versioning;

/// <summary>
/// A build's version from git tags, as MinVer computes it: <c>minver</c> (minver-cli, pinned in
/// <c>.config/dotnet-tools.json</c>) is run as a local tool, as NUKE's MinVer integration does. What MinVer does not
/// print comes from git: the commit, the branch, uncommitted changes, and whether HEAD is a release.
/// </summary>
/// <remarks>
/// Two things MinVer does quietly fail loudly here: a shallow clone (MinVer would print 0.0.0-alpha.0 with a
/// made-up height) is refused, and a repository without commits gets MinVer's 0.0.0-alpha.0 with a warning.
/// The tag and height are read from MinVer's own "Using { Commit, Tag, Version, Height }" line, so they always
/// match the version it chose.
/// </remarks>
public static partial class VersionCalculator
{
    public const string ToolPackage = "minver-cli";

    public static async Task<VersionInfo> CalculateAsync(string directory, VersionOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.Override))
            return await FromOverrideAsync(directory, options, ct);

        var probe = await Git.ProbeAsync(directory, "run from a clone, or pass --version-override", ct);
        if (probe.IsShallow)
            throw new DeliveryException(
                "This is a shallow clone; versions need full history: run 'git fetch --unshallow --tags' (or checkout with fetch-depth: 0), or pass --version-override");

        var minVerTask = RunMinVerAsync(directory, options, ct);
        var headTask = Git.HeadShaAsync(directory, ct);
        var branchTask = Git.CurrentBranchAsync(directory, ct);
        var changesTask = Git.ChangedTrackedFilesAsync(directory, ct);
        await Task.WhenAll(minVerTask, headTask, branchTask, changesTask);
        var minVer = await minVerTask;
        var head = await headTask;

        var warnings = minVer.Warnings.ToList();
        if (head is null)
            warnings.Add($"The git repository at '{probe.TopLevel}' has no commits yet; the version is {minVer.Version} until the first commit");
        return new VersionInfo
        {
            Version = minVer.Version,
            Height = minVer.Height,
            Sha = head ?? VersionInfo.UnknownSha,
            ShortSha = head?[..Math.Min(7, head.Length)] ?? VersionInfo.UnknownSha,
            Tag = minVer.Tag,
            BranchName = await branchTask ?? CiBranchName(options),
            IsRelease = minVer.Height == 0 && minVer.Tag is not null && !minVer.Version.IsPreRelease,
            IsDirty = (await changesTask).Count > 0,
            Warnings = warnings,
        };
    }

    /// <summary>The version a tag name denotes under the accepted prefixes, or null when it is not a version tag.</summary>
    public static SemanticVersion? ParseTag(string tagName, IReadOnlyList<string> acceptedPrefixes)
    {
        foreach (var prefix in acceptedPrefixes)
            if (tagName.StartsWith(prefix, StringComparison.Ordinal) && SemanticVersion.TryParse(tagName[prefix.Length..], out var version))
                return version;
        return null;
    }

    sealed record MinVerAnswer(SemanticVersion Version, string? Tag, int Height, IReadOnlyList<string> Warnings);

    static async Task<MinVerAnswer> RunMinVerAsync(string directory, VersionOptions options, CancellationToken ct)
    {
        var toolDirectory = options.ToolManifestDirectory
                            ?? DotnetTool.FindManifestDirectory(ToolPackage, AppContext.BaseDirectory, System.Environment.CurrentDirectory, directory)
                            ?? throw new DeliveryException($"No .config/dotnet-tools.json pins {ToolPackage}; run from the repository, or pass --version-override");
        List<string> arguments =
        [
            Path.GetFullPath(directory),
            "--verbosity", "info",
        ];

        var run = await DotnetTool.RunAsync(toolDirectory, "minver", arguments, ct);
        var output = Git.Lines(run.StandardOutput);
        if (!run.Succeeded || output.Count == 0 || !SemanticVersion.TryParse(output[^1], out var version))
            throw new DeliveryException($"minver failed in '{directory}' (exit {run.ExitCode}): {run.Tail(3)}");

        var log = run.StandardError;
        var chosen = UsingLine().Match(log);
        var warnings = Git.Lines(log).Where(l => l.StartsWith("MinVer: warning", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["MinVer: ".Length..]).ToList();
        return chosen.Success
            ? new MinVerAnswer(version, chosen.Groups["tag"].Value is { Length: > 0 } tag ? tag : null,
                int.Parse(chosen.Groups["height"].Value, System.Globalization.CultureInfo.InvariantCulture), warnings)
            : new MinVerAnswer(version, null, 0, warnings);
    }

    // e.g. "MinVer: Using { Commit: 9bb9de9, Tag: '1.2.3', Version: 1.2.3, Height: 1 }." (padded when debugging).
    [System.Text.RegularExpressions.GeneratedRegex(@"Using\s+\{\s*Commit:\s*\S+,\s*Tag:\s*'(?<tag>[^']*)',\s*Version:\s*\S+,\s*Height:\s*(?<height>\d+)\s*\}")]
    private static partial System.Text.RegularExpressions.Regex UsingLine();

    /// <summary>The given version; the commit, branch and dirty state still come from git when there is a repository
    /// (so the image and the deploy history name the real commit), and are "unknown" in a tarball.</summary>
    static async Task<VersionInfo> FromOverrideAsync(string directory, VersionOptions options, CancellationToken ct)
    {
        var version = SemanticVersion.TryParse(options.Override!.Trim(), out var parsed)
            ? parsed
            : throw new DeliveryException(
                $"Version override '{options.Override}' is not a valid SemVer 2.0 version (e.g. 1.2.3 or 1.2.3-rc.1)");
        string? head = null;
        try
        {
            if (Directory.Exists(directory)) head = await Git.HeadShaAsync(directory, ct);
        }
        catch (DeliveryException)
        {
            // No git on this machine: a tarball build.
        }
        return new VersionInfo
        {
            Version = version,
            Height = 0,
            Sha = head ?? VersionInfo.UnknownSha,
            ShortSha = head?[..Math.Min(7, head.Length)] ?? VersionInfo.UnknownSha,
            BranchName = (head is null ? null : await Git.CurrentBranchAsync(directory, ct)) ?? CiBranchName(options),
            IsRelease = !version.IsPreRelease,
            IsDirty = head is not null && (await Git.ChangedTrackedFilesAsync(directory, ct)).Count > 0,
        };
    }

    /// <summary>CI checks out a detached HEAD; GitHub Actions says which branch it is building.</summary>
    static string? CiBranchName(VersionOptions options)
    {
        // On pull requests GITHUB_REF_NAME is "<number>/merge"; the source branch is in GITHUB_HEAD_REF.
        var pullRequestBranch = options.ReadEnvironment("GITHUB_HEAD_REF");
        if (!string.IsNullOrWhiteSpace(pullRequestBranch)) return pullRequestBranch;
        if (string.Equals(options.ReadEnvironment("GITHUB_REF_TYPE"), "tag", StringComparison.Ordinal)) return null;
        var refName = options.ReadEnvironment("GITHUB_REF_NAME");
        return string.IsNullOrWhiteSpace(refName) ? null : refName;
    }
}
