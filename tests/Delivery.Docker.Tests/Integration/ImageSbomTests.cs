using System.Text;
using System.Text.Json.Nodes;
using Delivery.Core;
using Xunit.Abstractions;

namespace Delivery.Docker.Tests.Integration;

/// <summary>The whole-image SBOM against real images: the offline base (this machine's runtime, no package database)
/// and an image carrying this machine's own dpkg status and os-release.</summary>
[Collection(DockerCollection.Name)]
public sealed class ImageSbomTests(DockerFixture fixture, ITestOutputHelper output)
{
    static readonly byte[] AppSbom = Encoding.UTF8.GetBytes("""
        {"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
         "components":[{"type":"library","bom-ref":"pkg:nuget/prometheus-net@8.2.1","name":"prometheus-net","version":"8.2.1","purl":"pkg:nuget/prometheus-net@8.2.1"}]}
        """);

    [Fact]
    public async Task The_SBOM_lists_the_base_image_by_digest_and_the_runtime_it_carries_with_the_images_versions()
    {
        var reference = await fixture.BaseImageAsync();
        var image = (await fixture.Docker.InspectImageAsync(reference))!;
        var contents = await BaseImageContents.ReadAsync(fixture.Docker, reference);
        var sbom = ImageSbom.Complete(AppSbom, contents);
        var components = JsonNode.Parse(sbom)!["components"]!.AsArray();
        foreach (var c in components) output.WriteLine($"{c!["type"]} {c["name"]} {c["version"]}");

        var runtime = RuntimeBaseImage.DetectRuntimeVersion();
        Assert.Contains(image.Config!.Labels!["org.opencontainers.image.version"], $"{runtime}-offline");
        Assert.Contains(components, c => (string?)c!["name"] == "Microsoft.NETCore.App" && (string?)c["version"] == runtime && (string?)c["type"] == "framework");
        Assert.Contains(components, c => (string?)c!["name"] == "Microsoft.AspNetCore.App" && (string?)c["version"] == runtime);
        Assert.Contains(components, c => (string?)c!["type"] == "container" && (string?)c["version"] == image.ID && (string?)c["name"] == fixture.BaseImageRepository);
        Assert.Contains(components, c => (string?)c!["name"] == "prometheus-net");
        // Completing again replaces the image's components instead of adding them twice: the same bytes.
        Assert.Equal(sbom, ImageSbom.Complete(sbom, contents));
    }

    [Fact]
    public async Task OS_packages_come_from_the_base_images_dpkg_database()
    {
        if (!File.Exists("/var/lib/dpkg/status")) return;
        var archive = new RootFilesystemArchive();
        archive.AddHostPath("/var/lib/dpkg/status");
        archive.AddHostFileAs("/etc/os-release", "/etc/os-release");
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        var reference = $"{fixture.Name("dpkg")}:1";
        fixture.Track(reference);
        await fixture.Docker.ImportImageAsync(tar, fixture.Name("dpkg"), "1");

        var contents = await BaseImageContents.ReadAsync(fixture.Docker, reference);
        var installed = (await ProcessRunner.RunCheckedAsync("dpkg-query", ["-W", "-f", "${db:Status-Status} ${binary:Package} ${Version}\n"])).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("installed ", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{contents.Packages.Count} packages in the image, {installed.Count} installed here; {contents.DistroId} {contents.DistroVersion}");
        Assert.Equal(installed.Count, contents.Packages.Count);
        var components = JsonNode.Parse(ImageSbom.Complete(AppSbom, contents))!["components"]!.AsArray();
        var libc = installed.Select(l => l.Split(' ')).First(p => p[1].StartsWith("libc6", StringComparison.Ordinal));
        Assert.Contains(components, c => (string?)c!["name"] == "libc6" && (string?)c["version"] == libc[2] &&
                                         ((string?)c["purl"])!.StartsWith($"pkg:deb/{contents.DistroId}/libc6@", StringComparison.Ordinal));
    }
}
