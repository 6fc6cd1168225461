using Docker.DotNet;
using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

[Collection(DockerCollection.Name)]
public sealed class SmokeTestTests(DockerFixture fixture)
{
    [Fact]
    public async Task A_good_image_passes_and_its_container_is_removed()
    {
        var image = await fixture.AppImageAsync();
        var log = new List<string>();

        var result = await SmokeTest.RunAsync(fixture.Docker, new SmokeTestOptions
        {
            Image = image,
            ExpectedVersion = DockerFixture.AppVersion,
            NamePrefix = fixture.Name("smoke"),
            Labels = fixture.Labels,
        }, log.Add);

        Assert.Equal(DockerFixture.AppVersion, result.ReportedVersion);
        Assert.All(result.ProcessUids, uid => Assert.Equal("10001", uid));
        Assert.Equal(200, result.StatusCodes["/"]);
        Assert.Equal(200, result.StatusCodes["/metrics"]);
        Assert.Equal(200, result.StatusCodes["/version"]);
        Assert.DoesNotContain(result.HostPort, new[] { 5000, 8080, 8081 });
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => fixture.Api.Containers.InspectContainerAsync(result.ContainerName));
        Assert.Contains(log, l => l.StartsWith("Smoke test passed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_version_fails_with_both_versions_named()
    {
        var image = await fixture.AppImageAsync();

        var error = await Assert.ThrowsAsync<SmokeTestException>(() => SmokeTest.RunAsync(fixture.Docker, new SmokeTestOptions
        {
            Image = image,
            ExpectedVersion = "9.9.9",
            NamePrefix = fixture.Name("smoke-version"),
            Labels = fixture.Labels,
        }));

        Assert.Contains($"reports '{DockerFixture.AppVersion}', expected '9.9.9'", error.Message);
        Assert.Contains(error.LogTail, l => l.Contains("GET /version", StringComparison.Ordinal));
        Assert.DoesNotContain(await fixture.ListOwnContainersAsync(), c => c.Labels.ContainsKey("delivery.smoke-test"));
    }

    [Fact]
    public async Task An_image_whose_app_exits_fails_and_logs_the_containers_last_lines()
    {
        var image = await fixture.CrashingAppImageAsync();
        var log = new List<string>();

        var error = await Assert.ThrowsAsync<SmokeTestException>(() => SmokeTest.RunAsync(fixture.Docker, new SmokeTestOptions
        {
            Image = image,
            ExpectedVersion = DockerFixture.AppVersion,
            NamePrefix = fixture.Name("smoke-crash"),
            Labels = fixture.Labels,
        }, log.Add));

        Assert.IsAssignableFrom<DeliveryException>(error);
        Assert.Contains("exited with code 3 before /readyz answered", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("fixture: fatal: configuration-missing", error.LogTail);
        Assert.Contains("  | fixture: fatal: configuration-missing", log);
        Assert.DoesNotContain(await fixture.ListOwnContainersAsync(), c => c.Labels.ContainsKey("delivery.smoke-test"));
    }
}
