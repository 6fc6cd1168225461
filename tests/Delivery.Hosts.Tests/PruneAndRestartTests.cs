using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

[Collection(HostStateCollection.Name)]
public sealed class PruneAndRestartTests(HostFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Prune_keeps_N_releases_per_environment_and_never_touches_the_other_environment()
    {
        await using var bed = fixture.NewBed();
        var staging = bed.Staging with { KeepReleases = 2 };
        await bed.Deploy(bed.Production, fixture.V1);
        await bed.Deploy(bed.Production, fixture.V2);
        var productionBefore = await bed.Containers(bed.Production);
        Assert.Equal(2, productionBefore.Length);

        foreach (var release in new[] { fixture.V1, fixture.V2, fixture.V3, fixture.V4 })
            await bed.Deploy(staging, release);

        var stagingNow = await bed.Containers(staging);
        output.WriteLine(string.Join("\n", stagingNow));
        Assert.Equal(2, stagingNow.Length);
        Assert.Contains(stagingNow, c => c.Contains(" 4.0.0 running"));
        Assert.Contains(stagingNow, c => c.Contains(" 3.0.0 exited"));
        Assert.Equal(productionBefore, await bed.Containers(bed.Production));
        Assert.Equal("2.0.0", await bed.Version(bed.Production));

        // Production's rollback target shares its image with a release staging pruned: the image was kept.
        var back = await bed.Deployer.RollbackAsync(bed.Production, options: new DeployOptions { DeployedBy = "tester" });
        Assert.Equal("1.0.0", back.Release.Version);
        Assert.Equal("1.0.0", await bed.Version(bed.Production));
        Assert.Equal("4.0.0", await bed.Version(staging));
    }

    [Fact]
    public async Task A_release_image_that_left_the_host_after_its_pull_is_pulled_again_before_its_user_is_read()
    {
        // The other environment's prune removes a reference both use while no container holds it yet.
        var docker = Tools.Require("docker", "docker.io");
        var image = fixture.V3.ImageReference;
        await Tools.Run(docker, "image", "rm", image);

        var result = await HostShell.Run(new Scripts.ScriptValues().Add("docker", docker).Add("release_image", image), ["container.sh"],
            "inspect_release_user\nsay \"user=$release_user\"");

        foreach (var line in result.Lines) output.WriteLine(line);
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal([$"webapp-deploy: {image} left this host after its pull; pulling it again",
            $"webapp-deploy: pulling {image}", "webapp-deploy: user=65534:65534"], result.Lines);
    }

    [Fact]
    public async Task A_killed_proxy_restarts_from_its_files_on_disk_and_serves_each_environments_active_release()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        await bed.Deploy(bed.Staging, fixture.V2);
        await bed.Deploy(bed.Production, fixture.V3);

        var pid = bed.ProxyPid()!.Value;
        Assert.True(HostTestBed.IsHaproxy(pid));
        await Tools.RunChecked("kill", "-KILL", pid.ToString());
        for (var i = 0; i < 100 && HostTestBed.IsHaproxy(pid); i++) await Task.Delay(50);
        Assert.Equal("HTTP 0", await bed.Version(bed.Staging));

        await bed.Deployer.EnsureProxyAsync();

        Assert.NotEqual(pid, bed.ProxyPid());
        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
        Assert.Equal("3.0.0", await bed.Version(bed.Production));
        // And the restarted proxy still takes runtime switches.
        await bed.Deploy(bed.Staging, fixture.V4);
        Assert.Equal("4.0.0", await bed.Version(bed.Staging));
    }

    [Fact]
    public async Task Teardown_of_one_environment_leaves_the_other_serving_and_teardown_all_stops_the_proxy()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        await bed.Deploy(bed.Staging, fixture.V2);
        await bed.Deploy(bed.Production, fixture.V3);

        // The load runs until the teardown is done, so its proxy reload falls inside it however long a loaded machine
        // takes (a fixed 4 s window could end before the reload, and then the check below saw nothing of it).
        await using var load = Wrk.StartUntilStopped(bed.Production.PublicPort, TimeSpan.FromMinutes(2));
        await ProxyStats.WaitForWrk(bed.StateRoot, ProxyStats.Name(bed, bed.Production), "FRONTEND", "hrsp_2xx", 1, "no load on production");
        await bed.Deployer.TeardownAsync(bed.Staging);
        await Task.Delay(500);
        var result = await load.StopAsync();

        output.WriteLine($"production under load while staging was torn down (proxy reload): {result}");
        Assert.Equal(0, result.FailedRequests);
        Assert.Empty(await bed.Containers(bed.Staging));
        Assert.Equal("HTTP 0", await bed.Version(bed.Staging));
        Assert.False(Directory.Exists(Path.Combine(bed.StateRoot, "envs", "staging")));
        Assert.Equal("3.0.0", await bed.Version(bed.Production));
        Assert.Single(await bed.Containers(bed.Production));

        // A torn-down environment can be deployed again (its frontend reappears with a reload).
        await bed.Deploy(bed.Staging, fixture.V1);
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Equal("3.0.0", await bed.Version(bed.Production));

        var pid = bed.ProxyPid()!.Value;
        await bed.Deployer.TeardownAllAsync();
        for (var i = 0; i < 100 && HostTestBed.IsHaproxy(pid); i++) await Task.Delay(50);
        Assert.False(HostTestBed.IsHaproxy(pid));
        Assert.Empty(await bed.Containers(bed.Production));
        Assert.False(Directory.Exists(Path.Combine(bed.StateRoot, "proxy")));
    }

    [Fact]
    public async Task Promotion_evidence_tells_what_staging_runs_and_which_digests_passed_its_health_gate()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        await bed.Deploy(bed.Staging, fixture.V2);
        await bed.DeployFails(bed.Staging with { HealthTimeout = TimeSpan.FromSeconds(2) }, fixture.NeverReady);

        var old = await bed.Deployer.PromotionEvidenceAsync(bed.Staging, fixture.V1.Digest);
        Assert.Equal(fixture.V2.Digest, old.RunningDigest);
        Assert.Equal("2.0.0", old.RunningVersion);
        Assert.True(old.Verified);
        Assert.Equal("1.0.0", old.LastRecord!.Version);

        var rejected = await bed.Deployer.PromotionEvidenceAsync(bed.Staging, fixture.NeverReady.Digest);
        Assert.False(rejected.Verified);
        Assert.Null(rejected.LastRecord);

        var none = await bed.Deployer.PromotionEvidenceAsync(bed.Production, fixture.V1.Digest);
        Assert.Null(none.RunningDigest);
        Assert.False(none.Verified);

        var history = await bed.Deployer.HistoryAsync(bed.Staging);
        Assert.Equal(["1.0.0", "2.0.0"], history.Select(h => h.Version));

        var logs = (await bed.Deployer.LogsAsync(bed.Staging, 5)).Select(l => l.Line).ToList();
        Assert.Contains("listening on 8080", logs);
    }
}
