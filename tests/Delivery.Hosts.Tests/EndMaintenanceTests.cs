using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>Maintenance mode through deploys and rollbacks on the real engine and proxy: it stays on unless the
/// operation is given --end-maintenance.</summary>
[Collection(HostStateCollection.Name)]
public sealed class EndMaintenanceTests(HostFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_deploy_or_rollback_keeps_maintenance_on_unless_told_to_end_it()
    {
        await using var bed = fixture.NewBed();
        var options = new DeployOptions { DeployedBy = "tester" };
        await bed.Deploy(bed.Staging, fixture.V1);
        var mode = new MaintenanceMode(bed.Deployer);
        await mode.OnAsync(bed.Staging, new MaintenanceSettings { Message = "Database upgrade" }, options);
        Assert.Equal("HTTP 503", await bed.Version(bed.Staging));

        await bed.Deploy(bed.Staging, fixture.V2, options);
        Assert.Equal("HTTP 503", await bed.Version(bed.Staging));
        Assert.True((await mode.StatusAsync(bed.Staging)).Single().Status.On);

        await bed.Deployer.RollbackAsync(bed.Staging, null, options);
        Assert.Equal("HTTP 503", await bed.Version(bed.Staging));

        await bed.Deploy(bed.Staging, fixture.V3, options with { EndMaintenance = true });
        output.WriteLine(bed.Dump());
        Assert.Equal("3.0.0", await bed.Version(bed.Staging));
        Assert.False((await mode.StatusAsync(bed.Staging)).Single().Status.On);
        Assert.Contains("staging left maintenance: traffic reaches 3.0.0 again", bed.Log);

        await mode.OnAsync(bed.Staging, new MaintenanceSettings(), options);
        await bed.Deployer.RollbackAsync(bed.Staging, null, options with { EndMaintenance = true });
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.False((await mode.StatusAsync(bed.Staging)).Single().Status.On);
    }
}
