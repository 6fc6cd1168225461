using System.Text.Json;
using Delivery.Core;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// The image the CI build job hands to the push job is the image it built and tested, run here with the same targets
/// the jobs call: ExportImage where the image was built, then ImportImage and Push against an empty engine (the
/// push job's fresh runner), and the pushed digest compared with the registry's own answer. The ExportImage run is
/// the image clone's one image build (<see cref="ExportedImage"/>).
/// </summary>
[Collection(ImageCloneCollection.Name)]
public sealed class ImageHandoffTests(CloneFixture clone, ExportedImage exported) : CloneTests(clone)
{
    [Fact]
    public async Task The_exported_image_loads_into_an_empty_engine_with_its_recorded_id_and_is_pushed_as_image_json_says()
    {
        var registry = (await exported.InAsync(Clone)).Registry;
        var record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "artifacts", "image-build.json"))).RootElement;
        var imageId = record.GetProperty("imageId").GetString()!;
        var repository = record.GetProperty("repository").GetString()!;
        var tags = record.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.Equal($"{registry.Address}/webapp", repository);
        Assert.True(new FileInfo(Path.Combine(Root, "artifacts", "image.tar")).Length > 10_000_000);

        await using var engine = await PrivateDockerd.StartAsync("e2e");
        Assert.Equal("", (await engine.DockerAsync("images", "--quiet")).StandardOutput.Trim());

        var pushed = await Clone.BuildAsync(new Dictionary<string, string?> { ["DOCKER_HOST"] = engine.Host },
            "ImportImage", "Push", "--skip", "--registry", registry.Address);

        BuildAssert.Succeeded(pushed);
        Assert.Contains(pushed.OutputLines, l => l.EndsWith($"image id {imageId} as recorded by DockerBuild", StringComparison.Ordinal));
        foreach (var tag in tags)
            Assert.Equal(imageId, (await engine.DockerAsync("image", "inspect", "--format", "{{.Id}}", $"{repository}:{tag}")).StandardOutput.Trim());
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "artifacts", "image.json"))).RootElement;
        var digest = manifest.GetProperty("digest").GetString();
        Assert.StartsWith("sha256:", digest);
        foreach (var tag in tags)
            Assert.Equal(digest, await registry.ManifestDigestAsync("webapp", tag));
    }

    [Fact]
    public async Task An_archive_whose_image_id_differs_from_the_record_is_refused_in_one_line()
    {
        // A tiny image stands in for the archive; the record says another image was built and tested.
        var artifacts = Directory.CreateDirectory(Path.Combine(Root, "artifacts")).FullName;
        var reference = $"e2e-handoff-{Guid.NewGuid():N}"[..24] + ":sha-test";
        var busybox = await ProcessRunner.RunCheckedAsync("sh", ["-c", $"tar -C / -c usr/bin/busybox | docker import - {reference}"]);
        var actualId = busybox.StandardOutput.Trim();
        try
        {
            await ProcessRunner.RunCheckedAsync("sh", ["-c", $"docker save {reference} > {artifacts}/image.tar"]);
            var recorded = "sha256:" + new string('0', 64);
            var (repository, tag) = (reference.Split(':')[0], reference.Split(':')[1]);
            await File.WriteAllTextAsync(Path.Combine(artifacts, "image-build.json"),
                JsonSerializer.Serialize(new { repository, tags = new[] { tag }, imageId = recorded, version = "0.0.0", commit = "0000000" }));

            var run = await Clone.BuildAsync("ImportImage", "--skip");

            var message = BuildAssert.TargetFailure(run, "ImportImage");
            Assert.Equal($"{reference} loaded as {actualId}, but the build recorded {recorded}: the archive is not the image that was built and tested", message);
            BuildAssert.NoStackTrace(run);
        }
        finally
        {
            await ProcessRunner.RunAsync("docker", ["rmi", reference]);
        }
    }
}
