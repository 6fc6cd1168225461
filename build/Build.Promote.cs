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
            using var client = new RegistryClient(Registry, await RegistryLogin());
            var promotion = new CommitImagePromotion(client, (digest, tags, _) => AddTags(ImageRepository, digest, tags), Log.Information);
            var manifest = await promotion.PromoteAsync(new CommitRelease(ImageRepository, ImageName, v.SemVer, v.Sha, v.ShortSha),
                TimeSpan.FromSeconds(ImageWait), CancellationToken);
            await manifest.WriteAsync(ImageManifestFile, CancellationToken);
            var digest = manifest.Digest;
            ReportSummary($"{digest[..19]}… as {v.SemVer}");
        });
}
