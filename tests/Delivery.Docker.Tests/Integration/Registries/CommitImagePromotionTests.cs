using Delivery.Core;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>
/// One build per release against a real docker-registry: a tag run whose commit main already pushed (tag
/// <c>sha-&lt;short&gt;</c>) promotes that digest under the version tag and stores nothing new; without the commit's
/// image it fails in one line.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class CommitImagePromotionTests(DockerFixture fixture)
{
    const string Commit = "0123456789abcdef0123456789abcdef01234567";

    async Task<string> PushTinyImageAsync(string repository, string tag)
    {
        var archive = new RootFilesystemArchive();
        archive.AddText("/hello.txt", $"hello from {fixture.Prefix} {Guid.NewGuid()}\n");
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        fixture.Track($"{repository}:{tag}");
        await fixture.Docker.ImportImageAsync(tar, repository, tag, ["LABEL delivery.test=tiny"]);
        return await fixture.Docker.PushImageAsync(repository, tag, RegistryAuth.Anonymous);
    }

    /// <summary>Every file the registry stores (blobs, and each repository's manifest revisions and tag links), with its length.</summary>
    static SortedDictionary<string, long> Stored(RegistryServer registry, Func<string, bool> which)
    {
        var root = Path.Combine(registry.Directory, "data");
        return new SortedDictionary<string, long>(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f)).Where(which)
            .ToDictionary(f => f, f => new FileInfo(Path.Combine(root, f)).Length), StringComparer.Ordinal);
    }

    static bool BlobOrRevision(string path) => path.Contains("/blobs/", StringComparison.Ordinal) || path.Contains("/_manifests/revisions/", StringComparison.Ordinal);

    [Fact]
    public async Task A_tag_run_promotes_main_s_digest_of_its_commit_under_the_version_and_stores_no_new_blob_or_manifest()
    {
        await using var registry = await RegistryServer.StartAsync(fixture.NewTempDir("promote"));
        var path = fixture.Name("promote");
        var repository = $"{registry.Address}/{path}";
        var release = new CommitRelease(repository, path, "1.4.0", Commit, Commit[..7]);
        var mainDigest = await PushTinyImageAsync(repository, release.CommitTag); // what main's run pushed
        var before = Stored(registry, BlobOrRevision);
        using var client = new RegistryClient(registry.Address);
        var log = new List<string>();

        var manifest = await new CommitImagePromotion(client, (digest, tags, token) => client.TagAsync(path, digest, tags, token), log.Add)
            .PromoteAsync(release, TimeSpan.Zero);

        Assert.Equal(mainDigest, manifest.Digest);
        Assert.Equal(mainDigest, await client.ResolveDigestAsync(path, "1.4.0"));
        Assert.Equal(mainDigest, await client.ResolveDigestAsync(path, "sha-0123456"));
        Assert.Equal((repository, "1.4.0", Commit), (manifest.Repository, manifest.Version, manifest.Commit));
        Assert.Equal(["sha-0123456", "1.4.0"], manifest.Tags);
        // The registry holds exactly the blobs and manifest revisions it held before: the version tag is a new link only.
        Assert.Equal(before, Stored(registry, BlobOrRevision));
        Assert.Contains(Stored(registry, _ => true).Keys, k => k.EndsWith($"{path}/_manifests/tags/1.4.0/current/link", StringComparison.Ordinal));
        Assert.Contains($"Promoted {repository}@{mainDigest} (commit 0123456, built by main) as 1.4.0; nothing built or pushed", log);
    }

    [Fact]
    public async Task Without_main_s_image_of_the_commit_it_fails_in_one_line_and_tags_nothing()
    {
        await using var registry = await RegistryServer.StartAsync(fixture.NewTempDir("promote-none"));
        var path = fixture.Name("promote-none");
        var repository = $"{registry.Address}/{path}";
        var other = await PushTinyImageAsync(repository, "sha-fedcba9"); // another commit's image
        using var client = new RegistryClient(registry.Address);
        var tagged = false;
        var promotion = new CommitImagePromotion(client, (_, _, _) => { tagged = true; return Task.CompletedTask; }) { PollInterval = TimeSpan.FromMilliseconds(100) };

        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            promotion.PromoteAsync(new CommitRelease(repository, path, "1.4.0", Commit, Commit[..7]), TimeSpan.FromMilliseconds(300)));

        Assert.Equal($"No image of commit 0123456 to release as 1.4.0: {repository}:sha-0123456 is not in the registry after 0 s " +
                     "(a release tag promotes the image main built; push the commit to main first)", error.Message);
        Assert.False(tagged);
        Assert.Null(await client.GetDigestAsync(path, "1.4.0"));
        Assert.Equal(other, await client.ResolveDigestAsync(path, "sha-fedcba9"));
    }

    [Fact]
    public async Task A_version_tag_that_names_another_digest_is_never_moved()
    {
        await using var registry = await RegistryServer.StartAsync(fixture.NewTempDir("promote-moved"));
        var path = fixture.Name("promote-moved");
        var repository = $"{registry.Address}/{path}";
        var main = await PushTinyImageAsync(repository, "sha-0123456");
        var older = await PushTinyImageAsync(repository, "1.4.0");
        using var client = new RegistryClient(registry.Address);

        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            new CommitImagePromotion(client, (digest, tags, token) => client.TagAsync(path, digest, tags, token))
                .PromoteAsync(new CommitRelease(repository, path, "1.4.0", Commit, Commit[..7]), TimeSpan.Zero));

        Assert.Equal($"{repository}:1.4.0 is {older}, not commit 0123456's image {main}; a release tag never moves", error.Message);
        Assert.Equal(older, await client.ResolveDigestAsync(path, "1.4.0"));
    }
}
