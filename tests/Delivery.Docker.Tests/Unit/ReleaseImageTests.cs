using System.Text.Json.Nodes;

namespace Delivery.Docker.Tests.Unit;

public sealed class ReleaseImageTests
{
    static readonly ReleaseImageSpec Spec = new()
    {
        Repository = "registry.example:5000/webapp",
        Tags = ["1.4.0-alpha.3", "sha-0123abc"],
        Version = "1.4.0-alpha.3",
        Revision = "0123abcdef0123abcdef0123abcdef0123abcdef",
        Created = new DateTimeOffset(2026, 12, 6, 23, 19, 1, TimeSpan.FromHours(1)),
        BaseImage = "base:1",
        AppDirectory = "/tmp/publish",
        SbomPath = "/tmp/sbom.cdx.json",
        Source = "https://github.com/example/webapp",
        Title = "WebApp",
        Environment = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "8080" },
        ExposedPorts = [8080],
    };

    [Fact]
    public void The_labels_are_the_OCI_keys_from_the_version_facts_and_the_sbom_digest()
    {
        var labels = ReleaseImage.Labels(Spec, "sha256:5b0f");

        Assert.Equal(new Dictionary<string, string>
        {
            ["org.opencontainers.image.version"] = "1.4.0-alpha.3",
            ["org.opencontainers.image.revision"] = "0123abcdef0123abcdef0123abcdef0123abcdef",
            ["org.opencontainers.image.created"] = "2026-12-06T22:19:01Z",
            ["org.opencontainers.image.source"] = "https://github.com/example/webapp",
            ["org.opencontainers.image.title"] = "WebApp",
            ["delivery.sbom.sha256"] = "sha256:5b0f",
        }, labels);
    }

    [Fact]
    public void The_app_image_gets_the_repository_tags_environment_ports_and_commit_time()
    {
        var app = ReleaseImage.AppImageSpecOf(Spec, "sha256:5b0f");

        Assert.Equal(["registry.example:5000/webapp:1.4.0-alpha.3", "registry.example:5000/webapp:sha-0123abc"], app.Tags);
        Assert.Equal(("base:1", "/tmp/publish", Spec.Created), (app.BaseImage, app.AppDirectory, app.Created));
        Assert.Equal([8080], app.ExposedPorts);
        Assert.Equal("8080", app.Environment["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal("sha256:5b0f", app.Labels["delivery.sbom.sha256"]);
    }

    [Fact]
    public void The_labels_reach_the_image_config()
    {
        var baseConfig = """{"architecture":"amd64","os":"linux","config":{"Labels":{"from.base":"kept"}},"rootfs":{"type":"layers","diff_ids":[]}}"""u8.ToArray();
        var config = JsonNode.Parse(AppImage.Config(baseConfig, ReleaseImage.AppImageSpecOf(Spec, "sha256:5b0f"), "sha256:aa"))!;

        var labels = config["config"]!["Labels"]!.AsObject();
        Assert.Equal("1.4.0-alpha.3", (string?)labels["org.opencontainers.image.version"]);
        Assert.Equal("sha256:5b0f", (string?)labels["delivery.sbom.sha256"]);
        Assert.Equal("2026-12-06T22:19:01Z", (string?)config["created"]);
    }
}
