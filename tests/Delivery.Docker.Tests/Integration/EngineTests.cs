using Version = System.Version;
using Docker.DotNet.Models;
using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

[Collection(DockerRegistryCollection.Name)]
public sealed class EngineTests(DockerFixture fixture)
{
    [Fact]
    public async Task Ping_and_version_come_from_the_real_engine()
    {
        await fixture.Docker.PingAsync();
        var version = await fixture.Docker.VersionAsync();

        Assert.False(string.IsNullOrEmpty(version.Version));
        Assert.Equal("linux", version.Os);
        Assert.True(Version.Parse(version.APIVersion) >= DockerEngineClient.MinimumApiVersion,
            $"engine API {version.APIVersion} is older than {DockerEngineClient.MinimumApiVersion}");
        // Negotiated as the docker CLI does: the engine's version, capped at what Docker.DotNet knows.
        var expected = Version.Parse(version.APIVersion) < DockerEngineClient.MaximumApiVersion ? Version.Parse(version.APIVersion) : DockerEngineClient.MaximumApiVersion;
        Assert.Equal(expected, fixture.Docker.ApiVersion);
    }

    [Fact]
    public async Task A_missing_socket_is_a_one_line_error_naming_it()
    {
        var socket = Path.Combine(fixture.TempRoot, "no-engine.sock");
        using var client = new DockerEngineClient(DockerEndpoint.Unix(socket));

        var error = await Assert.ThrowsAsync<DeliveryException>(() => client.PingAsync());

        Assert.Contains($"not reachable at unix://{socket}", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(await client.TryPingAsync());
    }

    [Fact]
    public async Task Engine_errors_carry_the_engines_message()
    {
        var missing = fixture.Name("does-not-exist") + ":1";
        var error = await Assert.ThrowsAsync<DockerEngineException>(() => fixture.Docker.CallAsync($"tag {missing}",
            api => api.Images.TagImageAsync(missing, new ImageTagParameters { RepositoryName = fixture.Name("x"), Tag = "1" })));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal($"Docker Engine: tag {missing} failed (404): No such image: {missing}", error.Message);
    }

    [Fact]
    public async Task Inspecting_an_unknown_image_returns_null()
    {
        Assert.Null(await fixture.Docker.InspectImageAsync(fixture.Name("nothing") + ":1"));
    }

    [Fact]
    public async Task An_engine_that_is_not_there_fails_in_one_line_when_connecting()
    {
        using var client = new DockerEngineClient(DockerEndpoint.Parse($"tcp://127.0.0.1:{TestSupport.Tools.FreePort()}"));

        var error = await Assert.ThrowsAsync<DeliveryException>(() => client.ConnectAsync());

        Assert.StartsWith("Docker Engine is not reachable at tcp://127.0.0.1:", error.Message);
        Assert.Contains("(version)", error.Message);
        Assert.Null(client.ApiVersion);
    }
}
