using System.Diagnostics;
using System.Text.Json;
using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>Real load (wrk, 20 keep-alive connections) on the public port while releases change: it starts before
/// the change and is stopped after it, so it covers the change however long that takes on a loaded machine.</summary>
[Collection(HostLoadCollection.Name)]
public sealed class ZeroDowntimeTests(HostFixture fixture, ITestOutputHelper output)
{
    /// <summary>Caps a load that a failing test never stops; far above what the changes take even on a loaded machine.</summary>
    static readonly TimeSpan LoadBound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Redeploying_under_load_drops_no_request()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);

        // The load runs until both redeploys are done, however long they take on a loaded machine, then a little more.
        // It starts once the proxy has answered wrk and stops once more than the 1000 requests the check below needs
        // were answered, so a loaded machine's slower wrk cannot fall short of them.
        await using var load = Wrk.StartUntilStopped(bed.Staging.PublicPort, LoadBound);
        await ProxyStats.WaitForRequests(bed, bed.Staging, 1, "no load before the redeploys");
        var toV2 = await bed.Deploy(bed.Staging, fixture.V2);
        var toV3 = await bed.Deploy(bed.Staging, fixture.V3);
        await ProxyStats.WaitForRequests(bed, bed.Staging, 1001, "too little load to mean anything");
        var result = await load.StopAsync();

        output.WriteLine($"load: {result}");
        output.WriteLine($"redeploy to 2.0.0: {toV2.Total.TotalMilliseconds:0} ms (switch {toV2.Timings["switch"].TotalMilliseconds:0} ms, health {toV2.Timings["health"].TotalMilliseconds:0} ms, drain {toV2.Timings["drain"].TotalMilliseconds:0} ms)");
        output.WriteLine($"redeploy to 3.0.0: {toV3.Total.TotalMilliseconds:0} ms (switch {toV3.Timings["switch"].TotalMilliseconds:0} ms, health {toV3.Timings["health"].TotalMilliseconds:0} ms, drain {toV3.Timings["drain"].TotalMilliseconds:0} ms)");
        Assert.True(result.Requests > 1000, $"too little load to mean anything: {result}");
        Assert.Equal(0, result.SocketErrors);
        Assert.Equal(0, result.Non2xx3xx);
        Assert.Equal("3.0.0", await bed.Version(bed.Staging));
    }

    [Fact]
    public async Task A_release_that_never_gets_ready_is_rejected_while_the_old_one_keeps_serving()
    {
        await using var bed = fixture.NewBed();
        var staging = bed.Staging with { HealthTimeout = TimeSpan.FromSeconds(4) };
        await bed.Deploy(staging, fixture.V1);
        var historyBefore = bed.History(staging);
        var currentBefore = bed.StateFile(staging, "current");

        await using var load = Wrk.StartUntilStopped(staging.PublicPort, LoadBound);
        await ProxyStats.WaitForRequests(bed, staging, 1, "no load before the deploy");
        var error = await bed.DeployFails(staging, fixture.NeverReady);
        await ProxyStats.WaitForRequests(bed, staging, 501, "too little load to mean anything");
        var result = await load.StopAsync();

        output.WriteLine($"load during the rejected deploy: {result}");
        output.WriteLine(error.Message);
        Assert.Contains("5.0.0-never-ready failed the health gate on staging: no HTTP 200 from /readyz within 4s (last answer: 404)", error.Message);
        Assert.Contains("1.0.0 keeps serving", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(bed.Log, l => l.Contains("| listening on 8080"));   // the container's log tail was shown
        Assert.Equal(0, result.FailedRequests);
        Assert.True(result.Requests > 500, result.ToString());
        Assert.Equal("1.0.0", await bed.Version(staging));
        Assert.Equal(historyBefore, bed.History(staging));
        Assert.Equal(currentBefore, bed.StateFile(staging, "current"));
        Assert.DoesNotContain(await bed.Containers(staging), c => c.Contains("never-ready"));
        Assert.False(Directory.Exists(Path.Combine(bed.StateRoot, "envs", "staging", "lock")), "the lock must be released");
    }

    [Fact]
    public async Task A_release_whose_process_exits_is_rejected_quickly_with_its_log()
    {
        await using var bed = fixture.NewBed();
        // A gate far longer than the deploy takes on a loaded machine (23 s seen in CI), so "quickly" cannot be luck.
        var staging = bed.Staging with { HealthTimeout = TimeSpan.FromSeconds(120) };
        await bed.Deploy(staging, fixture.V1);

        var watch = Stopwatch.StartNew();
        var error = await bed.DeployFails(staging, fixture.ExitsAtStart);

        Assert.Contains("6.0.0-exits failed the health gate on staging: its process stopped", error.Message);
        Assert.True(watch.Elapsed < staging.HealthTimeout / 2, $"a crashed container must not wait for the health timeout ({watch.Elapsed})");
        Assert.Contains(bed.Log, l => l.Contains("| fatal: cannot start"));
        Assert.Equal("1.0.0", await bed.Version(staging));
        Assert.Single(bed.History(staging));
    }

    [Fact]
    public async Task Rollback_returns_the_previous_release_under_load_and_lists_what_is_retained()
    {
        await using var bed = fixture.NewBed();
        var staging = bed.Staging with { KeepReleases = 2 };
        await bed.Deploy(staging, fixture.V1);
        await bed.Deploy(staging, fixture.V2);

        await using var load = Wrk.StartUntilStopped(staging.PublicPort, LoadBound);
        await ProxyStats.WaitForRequests(bed, staging, 1, "no load before the rollback");
        var back = await bed.Deployer.RollbackAsync(staging, options: new DeployOptions { DeployedBy = "tester" });
        await Task.Delay(500);
        var result = await load.StopAsync();

        output.WriteLine($"load during the rollback: {result}; rollback took {back.Total.TotalMilliseconds:0} ms (switch {back.Timings["switch"].TotalMilliseconds:0} ms)");
        Assert.Equal("1.0.0", back.Release.Version);
        Assert.Equal("rollback", back.Release.Action);
        Assert.Equal("2.0.0", back.PreviousVersion);
        Assert.Equal(0, result.FailedRequests);
        Assert.Equal("1.0.0", await bed.Version(staging));
        var last = JsonDocument.Parse(bed.History(staging).Last()).RootElement;
        Assert.Equal("rollback", last.GetProperty("action").GetString());
        Assert.Equal(fixture.V1.Digest, last.GetProperty("digest").GetString());

        // Forward again by naming the version, then push 1.0.0 out of the retained set (keep 2).
        await bed.Deployer.RollbackAsync(staging, "2.0.0", new DeployOptions { DeployedBy = "tester" });
        Assert.Equal("2.0.0", await bed.Version(staging));
        await bed.Deploy(staging, fixture.V3);
        var historyBefore = bed.History(staging);
        var currentBefore = bed.StateFile(staging, "current");

        var error = await Assert.ThrowsAnyAsync<Delivery.Core.DeliveryException>(
            () => bed.Deployer.RollbackAsync(staging, "1.0.0", new DeployOptions { DeployedBy = "tester" }));
        Assert.Equal("Rollback of staging failed on local: 1.0.0 is not retained on staging; available: 2.0.0", error.Message);
        Assert.Equal(historyBefore, bed.History(staging));
        Assert.Equal(currentBefore, bed.StateFile(staging, "current"));
        Assert.Equal("3.0.0", await bed.Version(staging));
    }
}

/// <summary>The control for the zero-downtime figures: the same load sees the failures when a release is removed
/// without a switch, so "0 errors" above is a measurement, not a blind spot of wrk or busybox.</summary>
[Collection(HostLoadCollection.Name)]
public sealed class LoadMeasurementControlTests(HostFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Removing_the_serving_container_without_a_switch_shows_up_as_failed_requests()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        var container = (await bed.Deployer.StatusAsync(bed.Staging)).Container!;

        // The load runs until the proxy has answered more 5xx than wrk has connections, so wrk received at least one of
        // them whenever the removal ends on a loaded machine (a fixed 4 s window once saw only the last few failures).
        await using var load = Wrk.StartUntilStopped(bed.Staging.PublicPort, TimeSpan.FromMinutes(2));
        var proxy = ProxyStats.Name(bed, bed.Staging);
        await ProxyStats.WaitForWrk(bed.StateRoot, proxy, "FRONTEND", "hrsp_2xx", 1, "the load never reached the release");
        await Tools.RunChecked(bed.Docker, "rm", "--force", container);
        await ProxyStats.WaitForWrk(bed.StateRoot, proxy, "FRONTEND", "hrsp_5xx", 1, "the proxy answered no 5xx after the removal");
        var result = await load.StopAsync();

        output.WriteLine($"load with the serving container removed: {result}");
        Assert.True(result.FailedRequests > 0, result.ToString());
    }
}
