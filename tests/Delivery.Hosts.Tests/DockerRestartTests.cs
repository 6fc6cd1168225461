using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>
/// Restarting the engine is tested on a private dockerd that this test starts (own data root, socket and bridge),
/// so the shared engine other work relies on is never restarted.
/// </summary>
[Collection(HostStateCollection.Name)]
public sealed class DockerRestartTests(HostFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task After_dockerd_restarts_the_containers_come_back_and_each_environment_serves_its_active_release()
    {
        await using var daemon = await PrivateDockerd.StartAsync("hdt");
        await using var bed = fixture.NewBed(daemon.Host);
        await bed.Deploy(bed.Staging, fixture.V1);
        await bed.Deploy(bed.Staging, fixture.V2);
        await bed.Deploy(bed.Production, fixture.V3);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await daemon.RestartAsync();
        string staging = "", production = "";
        for (var i = 0; i < 150; i++)
        {
            staging = await bed.Version(bed.Staging);
            production = await bed.Version(bed.Production);
            if (staging == "2.0.0" && production == "3.0.0") break;
            await Task.Delay(200);
        }
        output.WriteLine($"dockerd restart to both environments serving again: {watch.ElapsedMilliseconds} ms");

        Assert.Equal("2.0.0", staging);
        Assert.Equal("3.0.0", production);
        var stagingContainers = await bed.Containers(bed.Staging);
        Assert.Contains(stagingContainers, c => c.EndsWith(" 2.0.0 running"));
        Assert.Contains(stagingContainers, c => c.EndsWith(" 1.0.0 exited"));   // a stopped rollback target stays stopped
        var status = await bed.Deployer.StatusAsync(bed.Staging);
        Assert.True(status.Healthy);
    }
}
