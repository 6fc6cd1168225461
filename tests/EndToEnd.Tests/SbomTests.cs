using System.Security.Cryptography;
using System.Text.Json;
using Delivery.Core;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>Publish writes the CycloneDX SBOM to artifacts/, and DockerBuild labels the image with its sha256, so
/// that the SBOM of a deployed digest can be found from the image alone. Checked on the image clone's one image build
/// (<see cref="ExportedImage"/>: ExportImage, which runs Publish and DockerBuild).</summary>
[Collection(ImageCloneCollection.Name)]
public sealed class SbomTests(CloneFixture clone, ExportedImage exported) : CloneTests(clone)
{
    [Fact]
    public async Task The_image_label_names_the_sbom_that_Publish_wrote()
    {
        var run = (await exported.InAsync(Clone)).Run;

        var sbomPath = Path.Combine(Root, "artifacts", "sbom.cdx.json");
        var sha = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(sbomPath)));
        using (var sbom = JsonDocument.Parse(await File.ReadAllBytesAsync(sbomPath)))
        {
            Assert.Equal("CycloneDX", sbom.RootElement.GetProperty("bomFormat").GetString());
            Assert.Equal("WebApp", sbom.RootElement.GetProperty("metadata").GetProperty("component").GetProperty("name").GetString());
        }
        Assert.Contains(run.OutputLines, l => l.StartsWith("SBOM artifacts/sbom.cdx.json: ", StringComparison.Ordinal) && l.EndsWith(sha, StringComparison.Ordinal));

        using var built = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "artifacts", "image-build.json")));
        Assert.Equal(sha, built.RootElement.GetProperty("sbom").GetString());
        var imageId = built.RootElement.GetProperty("imageId").GetString()!;
        var label = await ProcessRunner.RunCheckedAsync("docker", ["image", "inspect", imageId, "--format", "{{index .Config.Labels \"delivery.sbom.sha256\"}}"]);
        Assert.Equal(sha, label.StandardOutput.Trim());
    }
}
