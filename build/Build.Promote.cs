using BuildGraph;
using Delivery.Core;
using Delivery.Docker;

// One build per release: a release tag pushed on a commit that main already built promotes main's digest (found by
// its sha-<short> tag) instead of building and pushing another image of the same commit.
partial class Build
{
    [Parameter("PromoteCommitImage: seconds to wait for main's run to push the commit's image (a tag pushed with --atomic starts both runs at once)")]
    readonly int ImageWait;

    Target PromoteCommitImage => _ => _
        .Description("Release tags: finds the image main pushed for this commit (tag sha-<short>), adds the release tag to that digest, writes artifacts/image.json; builds and pushes nothing")
        .Executes(async () =>
        {
            var v = await CurrentVersion;
            if (!v.IsRelease)
                throw new DeliveryException($"PromoteCommitImage runs on a release tag (X.Y.Z at HEAD); {v.ShortSha} is {v.SemVer}");
            var commitTag = $"sha-{v.ShortSha.ToLowerInvariant()}";
            using var client = new RegistryClient(Registry, await RegistryLogin());
            var waited = System.Diagnostics.Stopwatch.StartNew();
            string? digest;
            while ((digest = await client.GetDigestAsync(ImageName, commitTag, CancellationToken)) is null && waited.Elapsed.TotalSeconds < ImageWait)
            {
                Log.Information($"{ImageRepository}:{commitTag} is not in the registry yet; waiting for main's run to push it ({waited.Elapsed.TotalSeconds:0} of {ImageWait} s)");
                await Task.Delay(TimeSpan.FromSeconds(15), CancellationToken);
            }
            if (digest is null)
                throw new DeliveryException($"No image of commit {v.ShortSha} to release as {v.SemVer}: {ImageRepository}:{commitTag} is not in the registry{(ImageWait > 0 ? $" after {ImageWait} s" : "")} (a release tag promotes the image main built; push the commit to main first)");
            if (await client.GetDigestAsync(ImageName, v.SemVer, CancellationToken) is { } tagged && tagged != digest)
                throw new DeliveryException($"{ImageRepository}:{v.SemVer} is {tagged}, not commit {v.ShortSha}'s image {digest}; a release tag never moves");
            await AddTags(ImageRepository, digest, [v.SemVer]);
            var manifest = new ImageManifest(ImageRepository, [commitTag, v.SemVer], digest, v.SemVer, v.Sha, DateTimeOffset.UtcNow);
            await manifest.WriteAsync(ImageManifestFile, CancellationToken);
            Log.Information($"Promoted {manifest.Reference} (commit {v.ShortSha}, built by main) as {v.SemVer}; nothing built or pushed");
            ReportSummary($"{digest[..19]}… as {v.SemVer}");
        });
}
