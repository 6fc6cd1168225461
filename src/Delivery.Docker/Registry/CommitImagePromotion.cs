using Delivery.Core;

namespace Delivery.Docker;

/// <summary>The release a tag run promotes: the registry repository (registry/path), its path in the registry, the
/// release version and the commit (full and short).</summary>
public sealed record CommitRelease(string Repository, string Path, string Version, string Commit, string ShortCommit)
{
    /// <summary>The tag main's run pushes for every commit it builds.</summary>
    public string CommitTag => $"sha-{ShortCommit.ToLowerInvariant()}";
}

/// <summary>
/// One build per release: a release tag on a commit that main already built promotes the digest main pushed for it
/// (found by its <c>sha-&lt;short&gt;</c> tag) under the version tag, and builds and pushes nothing. Adding the tag
/// puts the same manifest bytes again, so no blob moves and the digest stays the same.
/// </summary>
public sealed class CommitImagePromotion(RegistryClient registry, Func<string, IReadOnlyList<string>, CancellationToken, Task> addTags, Action<string>? log = null)
{
    /// <summary>How often the commit's tag is looked up again while waiting for main's run to push it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Finds the commit's image (waiting up to <paramref name="wait"/> for main's run, which a tag pushed with
    /// <c>--atomic</c> starts at the same time), refuses a version tag that already names another digest, adds the
    /// version tag, and returns what the deploy jobs read (artifacts/image.json). One-line errors.</summary>
    public async Task<ImageManifest> PromoteAsync(CommitRelease release, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        string? digest;
        while ((digest = await registry.GetDigestAsync(release.Path, release.CommitTag, cancellationToken)) is null && waited.Elapsed < wait)
        {
            log?.Invoke($"{release.Repository}:{release.CommitTag} is not in the registry yet; waiting for main's run to push it ({waited.Elapsed.TotalSeconds:0} of {wait.TotalSeconds:0} s)");
            var left = wait - waited.Elapsed;
            await Task.Delay(left < PollInterval ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : PollInterval, cancellationToken);
        }
        if (digest is null)
            throw new DeliveryException($"No image of commit {release.ShortCommit} to release as {release.Version}: {release.Repository}:{release.CommitTag} is not in the registry" +
                                        $"{(wait > TimeSpan.Zero ? $" after {wait.TotalSeconds:0} s" : "")} (a release tag promotes the image main built; push the commit to main first)");
        if (await registry.GetDigestAsync(release.Path, release.Version, cancellationToken) is { } tagged && tagged != digest)
            throw new DeliveryException($"{release.Repository}:{release.Version} is {tagged}, not commit {release.ShortCommit}'s image {digest}; a release tag never moves");
        await addTags(digest, [release.Version], cancellationToken);
        log?.Invoke($"Promoted {release.Repository}@{digest} (commit {release.ShortCommit}, built by main) as {release.Version}; nothing built or pushed");
        return new ImageManifest(release.Repository, [release.CommitTag, release.Version], digest, release.Version, release.Commit, DateTimeOffset.UtcNow);
    }
}
