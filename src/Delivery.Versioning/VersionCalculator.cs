using Delivery.Core;

namespace Delivery.Versioning;

/// <summary>
/// Calculates a build's version from git tags, following MinVer's documented rules:
/// HEAD tagged → that version; otherwise the latest version tag in the history plus the height, where a release
/// tag is first bumped (patch by default) and given the default pre-release identifiers; no tag at all →
/// 0.0.0-alpha.0 plus the height from the root commit.
/// </summary>
/// <remarks>
/// History walk (as MinVer does): depth-first from HEAD, first parent before the others. Each path stops at its
/// first commit carrying a version tag (every version tag on that commit becomes a candidate) or at a root commit
/// (a 0.0.0-alpha.0 candidate). A commit already reached on an earlier path is not walked again, so when branches
/// converge the height of the first path followed wins. The highest version among the candidates is chosen;
/// between equal versions, the one found first. Height 0 appends nothing (a root commit alone is 0.0.0-alpha.0).
/// </remarks>
public static class VersionCalculator
{
    public static async Task<VersionInfo> CalculateAsync(string directory, VersionOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(options);
        if (!SemanticVersion.IsValidPreRelease(options.DefaultPreReleaseIdentifiers))
            throw new DeliveryException(
                $"Default pre-release identifiers '{options.DefaultPreReleaseIdentifiers}' are not valid SemVer (e.g. alpha.0 or preview.0)");
        var defaultPreRelease = options.DefaultPreReleaseIdentifiers.Split('.');

        if (!string.IsNullOrWhiteSpace(options.Override))
            return await FromOverrideAsync(directory, options, ct);

        var probe = await Git.ProbeAsync(directory, "run from a clone, or pass --version-override", ct);
        if (probe.IsShallow)
            throw new DeliveryException(
                "This is a shallow clone; versions need full history: run 'git fetch --unshallow --tags' (or checkout with fetch-depth: 0), or pass --version-override");
        var head = await Git.HeadShaAsync(directory, ct)
            ?? throw new DeliveryException($"The git repository at '{probe.TopLevel}' has no commits yet; commit first, or pass --version-override");

        var graphTask = Git.RunCheckedAsync(directory, ["rev-list", "--parents", head], ct);
        var tagsTask = Git.TagsAsync(directory, ct);
        var branchTask = Git.CurrentBranchAsync(directory, ct);
        var changesTask = Git.ChangedTrackedFilesAsync(directory, ct);
        await Task.WhenAll(graphTask, tagsTask, branchTask, changesTask);

        var parents = ParseGraph((await graphTask).StandardOutput);
        var versionTags = VersionTags(await tagsTask, options.AcceptedTagPrefixes);
        var chosen = ChooseCandidate(head, parents, versionTags, new SemanticVersion(0, 0, 0, defaultPreRelease));

        return new VersionInfo
        {
            Version = ApplyHeight(chosen.Version, chosen.Height, options.AutoIncrement, defaultPreRelease),
            Height = chosen.Height,
            Sha = head,
            ShortSha = head[..Math.Min(7, head.Length)],
            Tag = chosen.Tag,
            BranchName = await branchTask ?? CiBranchName(options),
            IsRelease = chosen.Height == 0 && chosen.Tag is not null && !chosen.Version.IsPreRelease,
            IsDirty = (await changesTask).Count > 0,
        };
    }

    /// <summary>Bumps and/or extends a version found <paramref name="height"/> commits below HEAD.</summary>
    public static SemanticVersion ApplyHeight(SemanticVersion version, int height, VersionPart autoIncrement, IReadOnlyList<string> defaultPreRelease)
    {
        version = version.WithoutBuildMetadata();
        if (height == 0) return version;
        var heightText = height.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (version.IsPreRelease)
            return version.WithPreRelease([.. version.PreReleaseIdentifiers, heightText]);
        return autoIncrement switch
        {
            VersionPart.Major => new SemanticVersion(version.Major + 1, 0, 0, [.. defaultPreRelease, heightText]),
            VersionPart.Minor => new SemanticVersion(version.Major, version.Minor + 1, 0, [.. defaultPreRelease, heightText]),
            _ => new SemanticVersion(version.Major, version.Minor, version.Patch + 1, [.. defaultPreRelease, heightText]),
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

    internal static Dictionary<string, List<(string Tag, SemanticVersion Version)>> VersionTags(
        IEnumerable<(string Name, string CommitSha)> tags, IReadOnlyList<string> acceptedPrefixes)
    {
        var byCommit = new Dictionary<string, List<(string, SemanticVersion)>>(StringComparer.Ordinal);
        foreach (var (name, sha) in tags)
        {
            if (ParseTag(name, acceptedPrefixes) is not { } version) continue;
            if (!byCommit.TryGetValue(sha, out var list)) byCommit[sha] = list = [];
            list.Add((name, version));
        }
        return byCommit;
    }

    static Dictionary<string, string[]> ParseGraph(string revListParents)
    {
        var parents = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var line in Git.Lines(revListParents))
        {
            var shas = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            parents[shas[0]] = shas[1..];
        }
        return parents;
    }

    sealed record Candidate(SemanticVersion Version, int Height, string? Tag);

    static Candidate ChooseCandidate(
        string head,
        IReadOnlyDictionary<string, string[]> parents,
        IReadOnlyDictionary<string, List<(string Tag, SemanticVersion Version)>> versionTags,
        SemanticVersion defaultVersion)
    {
        var candidates = new List<Candidate>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Sha, int Height)>();
        pending.Push((head, 0));
        while (pending.TryPop(out var item))
        {
            if (!visited.Add(item.Sha)) continue;
            if (versionTags.TryGetValue(item.Sha, out var tags))
            {
                candidates.AddRange(tags.OrderByDescending(t => t.Version).ThenBy(t => t.Tag, StringComparer.Ordinal)
                    .Select(t => new Candidate(t.Version, item.Height, t.Tag)));
                continue;
            }
            var itemParents = parents.GetValueOrDefault(item.Sha) ?? [];
            if (itemParents.Length == 0)
            {
                candidates.Add(new Candidate(defaultVersion, item.Height, null));
                continue;
            }
            // Pushed in reverse so the first parent is walked first.
            for (var i = itemParents.Length - 1; i >= 0; i--)
                pending.Push((itemParents[i], item.Height + 1));
        }

        var best = candidates[0];
        foreach (var candidate in candidates.Skip(1))
            if (candidate.Version > best.Version) best = candidate;
        return best;
    }

    /// <summary>The given version; the commit, branch and dirty state still come from git when there is a repository
    /// (so the image and the deploy history name the real commit), and are "unknown" in a tarball.</summary>
    static async Task<VersionInfo> FromOverrideAsync(string directory, VersionOptions options, CancellationToken ct)
    {
        var version = SemanticVersion.TryParse(options.Override!.Trim(), out var parsed)
            ? parsed.WithoutBuildMetadata()
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
