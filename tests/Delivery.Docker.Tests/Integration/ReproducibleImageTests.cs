using Delivery.Docker.Tests.Integration.Registries;
using Xunit.Abstractions;

namespace Delivery.Docker.Tests.Integration;

/// <summary>
/// The same inputs give the same image: two copies of one publish output at different paths, with different file
/// times and modes touched in between, assembled on the same base, give one image id; pushed to two fresh registries
/// (so the engine compresses every layer anew for each), one manifest digest.
/// </summary>
[Collection(DockerCollection.Name)]
public sealed class ReproducibleImageTests(DockerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Two_copies_of_one_publish_output_give_one_image_id_and_one_pushed_digest()
    {
        var baseImage = await fixture.BaseImageAsync();
        var published = await fixture.PublishedAppAsync();
        var first = Copy(published, fixture.NewTempDir("clone-a"), DateTime.UtcNow.AddDays(-3));
        var second = Copy(published, fixture.NewTempDir("clone-b-at-another-path"), DateTime.UtcNow);
        File.SetUnixFileMode(Path.Combine(second, "WebApp.dll"), (UnixFileMode)0b110_110_100); // 0664: another umask

        var dirA = fixture.NewTempDir("registry-a");
        var dirB = fixture.NewTempDir("registry-b");
        await using var registryA = await RegistryServer.StartAsync(dirA);
        await using var registryB = await RegistryServer.StartAsync(dirB);
        var repoA = $"{registryA.Address}/{fixture.Name("repro")}";
        var repoB = $"{registryB.Address}/{fixture.Name("repro")}";
        fixture.Track($"{repoA}:1");
        fixture.Track($"{repoB}:1");

        var a = await AppImage.BuildAsync(fixture.Docker, fixture.AppSpec(baseImage, first, $"{repoA}:1"));
        var digestA = await fixture.Docker.PushImageAsync(repoA, "1");
        await fixture.RemoveImageAsync($"{repoA}:1");
        var b = await AppImage.BuildAsync(fixture.Docker, fixture.AppSpec(baseImage, second, $"{repoB}:1"));
        var digestB = await fixture.Docker.PushImageAsync(repoB, "1");
        output.WriteLine($"image ids {a.ImageId} / {b.ImageId}; pushed {digestA} / {digestB}");

        Assert.Equal(a.AppLayerDiffId, b.AppLayerDiffId);
        Assert.Equal(a.ImageId, b.ImageId);
        Assert.Equal(digestA, digestB);

        var image = await fixture.Docker.InspectImageAsync(b.ImageId);
        Assert.Equal(DockerFixture.CommitTime.UtcDateTime, image!.Created!.Value.ToUniversalTime());

        // Another commit time is another image: the id depends on the time, so the test above can fail.
        var later = await AppImage.BuildAsync(fixture.Docker, fixture.AppSpec(baseImage, first) with { Created = DockerFixture.CommitTime.AddSeconds(1) });
        fixture.Track(later.ImageId);
        Assert.NotEqual(a.ImageId, later.ImageId);
        Assert.NotEqual(a.AppLayerDiffId, later.AppLayerDiffId);
    }

    [Fact]
    public async Task The_offline_base_image_is_the_same_image_when_built_again()
    {
        var reference = await fixture.BaseImageAsync();
        var again = await RuntimeBaseImage.EnsureAsync(fixture.Docker, new RuntimeBaseImageOptions { Repository = fixture.Name("base"), Force = true });
        Assert.Equal((await fixture.Docker.InspectImageAsync(reference))!.ID, again.ImageId);
        Assert.Equal(DateTime.UnixEpoch, (await fixture.Docker.InspectImageAsync(again.Reference))!.Created!.Value.ToUniversalTime());
    }

    static string Copy(string from, string to, DateTime touched)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(from, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, path));
            if (Directory.Exists(path)) Directory.CreateDirectory(target);
            else File.Copy(path, target);
        }
        foreach (var path in Directory.EnumerateFileSystemEntries(to, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(path, touched);
        return to;
    }
}
