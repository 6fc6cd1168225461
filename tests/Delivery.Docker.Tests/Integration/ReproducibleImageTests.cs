using Delivery.Core;
using Delivery.Docker.Tests.Integration.Registries;
using Xunit.Abstractions;

namespace Delivery.Docker.Tests.Integration;

/// <summary>
/// The same inputs give the same image: two copies of one publish output at different paths, with different file
/// times and modes touched in between, assembled on the same base, give one image id; pushed to two fresh registries
/// (so the engine compresses every layer anew for each), one manifest digest.
/// </summary>
[Collection(DockerReproducibleCollection.Name)]
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

    /// <summary>The app itself, published from two copies of its sources at paths of different lengths (the second
    /// touched to other file times), each through <see cref="CanonicalSource"/> as Publish does, the mirror emptied
    /// in between so both builds are cold: every published byte is equal, so are the image ids and pushed digests.
    /// Published in place, Razor's page paths would differ in WebApp.dll and WebApp.pdb.</summary>
    [Fact]
    public async Task Two_clones_of_the_app_at_different_paths_publish_the_same_bytes_and_give_one_image_id_and_one_pushed_digest()
    {
        var cloneA = CopyAppSources(fixture.NewTempDir("app-clone-a"), DateTime.UtcNow.AddDays(-3));
        var cloneB = CopyAppSources(Path.Combine(fixture.NewTempDir("app-clone-b"), "at", "another", "longer", "path"), DateTime.UtcNow.AddDays(1));
        var canonical = Path.Combine(fixture.NewTempDir("canonical"), "webapp");

        var publishA = await PublishAsync(cloneA, canonical, fixture.NewTempDir("app-publish-a"));
        Directory.Delete(canonical, recursive: true);
        var publishB = await PublishAsync(cloneB, canonical, fixture.NewTempDir("app-publish-b"));
        var filesA = Listing(publishA);
        Assert.Contains(filesA, f => f.StartsWith("WebApp.dll ", StringComparison.Ordinal));
        Assert.Equal(filesA, Listing(publishB));

        var baseImage = await fixture.BaseImageAsync();
        await using var registryA = await RegistryServer.StartAsync(fixture.NewTempDir("app-registry-a"));
        await using var registryB = await RegistryServer.StartAsync(fixture.NewTempDir("app-registry-b"));
        var repoA = $"{registryA.Address}/{fixture.Name("repro-app")}";
        var repoB = $"{registryB.Address}/{fixture.Name("repro-app")}";
        fixture.Track($"{repoA}:1");
        fixture.Track($"{repoB}:1");
        var a = await AppImage.BuildAsync(fixture.Docker, fixture.AppSpec(baseImage, publishA, $"{repoA}:1"));
        var digestA = await fixture.Docker.PushImageAsync(repoA, "1");
        await fixture.RemoveImageAsync($"{repoA}:1");
        var b = await AppImage.BuildAsync(fixture.Docker, fixture.AppSpec(baseImage, publishB, $"{repoB}:1"));
        var digestB = await fixture.Docker.PushImageAsync(repoB, "1");
        output.WriteLine($"app from {cloneA} and {cloneB}: image ids {a.ImageId} / {b.ImageId}; pushed {digestA} / {digestB}");
        Assert.Equal(a.ImageId, b.ImageId);
        Assert.Equal(digestA, digestB);
    }

    /// <summary>A clone's worth of what the app's build reads: the repository's top-level files and src/WebApp,
    /// without build state, every time set to <paramref name="touched"/>.</summary>
    static string CopyAppSources(string to, DateTime touched)
    {
        var root = DockerFixture.RepositoryRoot;
        string[] buildState = ["bin", "obj", "node_modules"];
        var files = Directory.EnumerateFiles(root).Concat(
            Directory.EnumerateFiles(Path.Combine(root, "src", "WebApp"), "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetRelativePath(root, f).Split('/').Any(buildState.Contains)));
        foreach (var file in files)
        {
            var target = Path.Combine(to, Path.GetRelativePath(root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        foreach (var path in Directory.EnumerateFileSystemEntries(to, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(path, touched);
        return to;
    }

    static async Task<string> PublishAsync(string clone, string canonical, string output)
    {
        using var source = await CanonicalSource.MirrorAsync(new CanonicalSourceOptions
        {
            SourceRoot = clone, Project = Path.Combine(clone, "src", "WebApp", "WebApp.csproj"), Root = canonical,
        });
        // The test host runs inside MSBuild's environment; a nested publish must not inherit it.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(k => k, _ => (string?)null);
        await ProcessRunner.RunCheckedAsync("dotnet",
            ["publish", source.Project, "-c", "Release", "-o", output, "-p:Version=1.2.3", "-p:SourceRevisionId=0123456789abcdef",
             $"-p:SOURCE_DATE_EPOCH={DockerFixture.CommitTime.ToUnixTimeSeconds()}", "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            new ProcessOptions { WorkingDirectory = clone, Environment = environment });
        return output;
    }

    /// <summary>"relative/path sha256" for every published file, in order.</summary>
    static List<string> Listing(string directory) => Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
        .Select(f => $"{Path.GetRelativePath(directory, f)} {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}")
        .Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task The_offline_base_image_is_the_same_image_when_built_again()
    {
        var reference = await fixture.BaseImageAsync();
        var again = await RuntimeBaseImage.EnsureAsync(fixture.Docker, new RuntimeBaseImageOptions { Repository = fixture.BaseImageRepository, Force = true });
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
