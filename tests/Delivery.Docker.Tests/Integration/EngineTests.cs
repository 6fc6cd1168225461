using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

[Collection(DockerCollection.Name)]
public sealed class EngineTests(DockerFixture fixture)
{
    [Fact]
    public async Task Ping_and_version_come_from_the_real_engine()
    {
        await fixture.Docker.PingAsync();
        var version = await fixture.Docker.VersionAsync();

        Assert.False(string.IsNullOrEmpty(version.Version));
        Assert.Equal("linux", version.Os);
        Assert.True(Version.Parse(version.ApiVersion) >= Version.Parse(DockerEngineClient.ApiVersion),
            $"engine API {version.ApiVersion} is older than {DockerEngineClient.ApiVersion}");
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
        var error = await Assert.ThrowsAsync<DockerEngineException>(() => fixture.Docker.TagImageAsync(fixture.Name("does-not-exist") + ":1", fixture.Name("x"), "1"));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
        Assert.Contains("No such image", error.Message);
    }

    [Fact]
    public async Task Inspecting_unknown_images_and_containers_returns_null()
    {
        Assert.Null(await fixture.Docker.InspectImageAsync(fixture.Name("nothing") + ":1"));
        Assert.Null(await fixture.Docker.InspectContainerAsync(fixture.Name("nothing")));
        Assert.False(await fixture.Docker.RemoveContainerAsync(fixture.Name("nothing")));
    }
}
