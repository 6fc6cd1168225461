namespace Delivery.Docker.Tests.Integration;

[Collection(DockerCollection.Name)]
public sealed class PrerequisitesTests(DockerFixture fixture)
{
    [Fact]
    public async Task With_the_engine_and_registry_present_there_is_nothing_to_do()
    {
        var log = new List<string>();
        await DockerPrerequisites.EnsureAsync(fixture.Docker, requireRegistry: true, log.Add);
        Assert.Empty(log);
    }

    [Fact]
    public async Task An_unreachable_remote_engine_fails_with_one_line_instead_of_installing()
    {
        using var remote = new DockerEngineClient(DockerEndpoint.Parse($"tcp://127.0.0.1:{DockerFixture.FreePort()}"));
        var error = await Assert.ThrowsAsync<Delivery.Core.DeliveryException>(() => DockerPrerequisites.EnsureAsync(remote));
        Assert.StartsWith("Docker Engine at tcp://127.0.0.1:", error.Message);
        Assert.Contains("unset DOCKER_HOST", error.Message);
    }
}
