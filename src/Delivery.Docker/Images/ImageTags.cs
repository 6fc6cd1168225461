using Delivery.Core;

namespace Delivery.Docker;

/// <summary>The tags an image gets for one commit.</summary>
public static class ImageTags
{
    /// <summary>
    /// <c>&lt;semver with '+' → '-'&gt;</c>; <c>release-X.Y.Z</c> and <c>X.Y.Z</c> (without build metadata) when HEAD is
    /// a release tag;
    /// <c>main</c> when building the main branch; <c>sha-&lt;shortSha&gt;</c> always. Other branch names never become
    /// tags. Every tag is validated; an invalid one is a <see cref="DeliveryException"/> naming it.
    /// </summary>
    public static IReadOnlyList<string> Compute(string semVer, string shortSha, bool isRelease, string? branchName, string mainBranch = "main")
    {
        if (string.IsNullOrWhiteSpace(semVer)) throw new DeliveryException("Cannot tag the image: the version is empty");
        if (string.IsNullOrWhiteSpace(shortSha)) throw new DeliveryException("Cannot tag the image: the commit sha is empty");

        var version = semVer.Trim().Replace('+', '-');
        var tags = new List<(string Tag, string Source)> { (version, $"version '{semVer}'") };
        if (isRelease)
        {
            // X.Y.Z names the release alone: a tag's build metadata (kept by MinVer) is only in the full version tag.
            var release = semVer.Trim().Split('+')[0];
            tags.Add(($"release-{release}", $"release version '{semVer}'"));
            tags.Add((release, $"release version '{semVer}'"));
        }
        if (branchName is not null && NormalizeBranch(branchName) == mainBranch)
            tags.Add((mainBranch, $"main branch name '{mainBranch}'"));
        tags.Add(($"sha-{shortSha.Trim().ToLowerInvariant()}", $"commit '{shortSha}'"));

        var result = new List<string>();
        foreach (var (tag, source) in tags)
        {
            if (!ImageReference.IsValidTag(tag))
                throw new DeliveryException($"'{tag}' (from the {source}) is not a valid Docker tag: it must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}");
            if (!result.Contains(tag)) result.Add(tag);
        }
        return result;
    }

    /// <summary>The tag a production deploy moves to the deployed manifest.</summary>
    public const string Production = "production";

    /// <summary>
    /// The tags a production deploy adds to the deployed manifest: <c>production</c>, and <c>release-&lt;version&gt;</c>
    /// (with '+' turned into '-') when the version is known and makes a valid tag.
    /// </summary>
    public static IReadOnlyList<string> Promotion(string version)
    {
        var versionTag = "release-" + version.Trim().Replace('+', '-');
        return version.Trim() is { Length: > 0 } and not "unknown" && ImageReference.IsValidTag(versionTag)
            ? [Production, versionTag]
            : [Production];
    }

    /// <summary>Full references, e.g. "127.0.0.1:5000/webapp:1.2.3", for every tag.</summary>
    public static IReadOnlyList<string> References(string repository, IEnumerable<string> tags)
    {
        if (!ImageReference.IsValidRepository(repository))
            throw new DeliveryException($"'{repository}' is not a valid image repository (lower case letters, digits, '.', '_', '-', '/' and an optional registry host:port)");
        return tags.Select(t => $"{repository}:{t}").ToList();
    }

    static string NormalizeBranch(string branch) =>
        branch.StartsWith("refs/heads/", StringComparison.Ordinal) ? branch["refs/heads/".Length..] : branch;
}
