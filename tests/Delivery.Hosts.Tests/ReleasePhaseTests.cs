using System.Diagnostics;
using System.Text.Json;
using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>The release phase through the real engine and proxy: the command runs in the new image before the switch,
/// and a failure or a timeout leaves the old release serving.</summary>
[Collection(HostCollection.Name)]
public sealed class ReleasePhaseTests(HostFixture fixture, ITestOutputHelper output)
{
    static DeployOptions With(string command, TimeSpan? timeout = null) => new()
    {
        DeployedBy = "tester",
        ReleasePhase = new ReleasePhaseSettings(command) { Timeout = timeout ?? TimeSpan.FromSeconds(30) },
    };

    [Fact]
    public async Task A_passing_command_runs_in_the_new_image_before_the_switch_and_the_history_notes_its_duration()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);

        // The new image's own files prove the command ran in it: the test image serves /version from /www/version.
        var outcome = await bed.Deploy(bed.Staging, fixture.V2, With("/bin/busybox sh -c 'echo \"migrating to $(cat /www/version) as $(id -u) in $ASPNETCORE_ENVIRONMENT\"'"));
        output.WriteLine(bed.Dump());

        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
        Assert.Equal(0, outcome.ReleasePhase?.ExitCode);
        var shown = bed.Log.Single(l => l.StartsWith("release phase: migrating", StringComparison.Ordinal));
        Assert.Equal("release phase: migrating to 2.0.0 as 65534 in Staging", shown);
        // Before any switch: the command's line comes before the deploy's first step.
        Assert.True(bed.Log.IndexOf(shown) < bed.Log.FindIndex(l => l.StartsWith("deploying 2.0.0", StringComparison.Ordinal)), bed.Dump());
        using var last = JsonDocument.Parse(bed.History(bed.Staging)[^1]);
        Assert.Equal("2.0.0", last.RootElement.GetProperty("version").GetString());
        Assert.Equal((long)outcome.ReleasePhase!.Duration.TotalMilliseconds, last.RootElement.GetProperty("release_phase_ms").GetInt64());
        Assert.Empty(await PhaseContainers(bed));
    }

    [Fact]
    public async Task A_failing_command_stops_the_deploy_in_one_line_while_the_old_release_serves_every_request()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        var historyBefore = bed.History(bed.Staging);

        // The load runs from the proxy's first answers until the failed deploy is over, however long its release phase
        // takes on a loaded machine (a fixed 6 s window could end inside it), and until the proxy has answered more than
        // the 500 requests that make it mean something, plus one per connection, so wrk counted them.
        await using var load = Wrk.StartUntilStopped(bed.Staging.PublicPort, TimeSpan.FromMinutes(2));
        var proxy = ProxyStats.Name(bed, bed.Staging);
        await ProxyStats.WaitForWrk(bed.StateRoot, proxy, "FRONTEND", "hrsp_2xx", 1, "no load before the deploy");
        var failure = await bed.DeployFails(bed.Staging, fixture.V2, With("/bin/busybox sh -c 'echo step one; echo relation users already exists >&2; exit 7'"));
        await ProxyStats.WaitForWrk(bed.StateRoot, proxy, "FRONTEND", "req_tot", 501, "too little load");
        var result = await load.StopAsync();
        output.WriteLine($"{failure.Message}\nload: {result}");

        Assert.DoesNotContain('\n', failure.Message);
        // The engine keeps stdout and stderr apart, so their order in the last lines is not fixed.
        Assert.Contains("release phase failed with exit code 7; nothing was switched; last output: ", failure.Message);
        Assert.Contains("step one", failure.Message);
        Assert.Contains("relation users already exists", failure.Message);
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Equal(historyBefore, bed.History(bed.Staging));
        Assert.True(result.Requests > 500, $"too little load to mean anything: {result}");
        Assert.Equal(0, result.SocketErrors);
        Assert.Equal(0, result.Non2xx3xx);
        Assert.DoesNotContain(await bed.Containers(bed.Staging), c => c.Contains("2.0.0", StringComparison.Ordinal));
        Assert.Empty(await PhaseContainers(bed));
    }

    [Fact]
    public async Task A_command_that_outlives_its_timeout_is_killed_and_stops_the_deploy()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);

        var watch = Stopwatch.StartNew();
        var failure = await bed.DeployFails(bed.Staging, fixture.V2, With("/bin/busybox sh -c 'echo waiting for the lock; sleep 120'", TimeSpan.FromSeconds(2)));
        watch.Stop();
        output.WriteLine($"{failure.Message} ({watch.Elapsed.TotalSeconds:0.0} s)");

        Assert.Contains("release phase timed out after 2s (exit code 137); nothing was switched; last output: waiting for the lock", failure.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"the timeout did not stop the 120 s command: {watch.Elapsed}");
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Empty(await PhaseContainers(bed));
    }

    [Fact]
    public async Task A_marker_the_command_writes_to_the_data_store_is_served_by_the_new_release_and_teardown_removes_only_that_store()
    {
        await using var bed = fixture.NewBed();
        string Store(string env) => $"{bed.Settings.AppName}-{env}-data";
        async Task<string> Marker(DeployEnvironment env)
        {
            var (status, body) = await Tools.Get($"http://127.0.0.1:{env.PublicPort}/data/migration");
            return status == 200 ? body.Trim() : $"HTTP {status}";
        }
        await bed.Deploy(bed.Production, fixture.V1, With("/bin/busybox sh -c 'echo production-schema-7 > /data/migration'"));
        await bed.Deploy(bed.Staging, fixture.V1);
        Assert.Equal("HTTP 404", await Marker(bed.Staging));
        var marker = $"migrated-{Guid.NewGuid():N}";

        await bed.Deploy(bed.Staging, fixture.V2, With($"/bin/busybox sh -c 'echo \"{marker} to $(cat /www/version)\" > /data/migration'"));
        output.WriteLine(bed.Dump());

        // Through the proxy: the release that now serves reads what its release phase wrote, and production's store
        // is its own.
        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
        Assert.Equal($"{marker} to 2.0.0", await Marker(bed.Staging));
        Assert.Equal("production-schema-7", await Marker(bed.Production));
        Assert.Equal([Store("production"), Store("staging")], await bed.DataVolumes());
        // The store is the only writable place: the serving container's root stays read-only.
        var serving = bed.StateFile(bed.Staging, "current")!.Split('\n').Single(l => l.StartsWith("container=", StringComparison.Ordinal))["container=".Length..];
        Assert.Equal($"true {Store("staging")}:/data:true", (await Tools.RunChecked(bed.Docker, [.. bed.DockerHostArgs(), "inspect", "--format",
            "{{.HostConfig.ReadonlyRootfs}}{{range .Mounts}} {{.Name}}:{{.Destination}}:{{.RW}}{{end}}", serving])).Trim());

        // A rollback keeps the store: the previous release starts on it and reads the same marker.
        await bed.Deployer.RollbackAsync(bed.Staging, options: new DeployOptions { DeployedBy = "tester" });
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Equal($"{marker} to 2.0.0", await Marker(bed.Staging));

        // A release phase the agent SIGKILLed before its trap ran leaves its container holding the store.
        var killedPhase = $"{bed.Settings.AppName}-staging-release-phase";
        await Tools.RunChecked(bed.Docker, [.. bed.DockerHostArgs(), "run", "--detach", "--name", killedPhase, "--label", "webapp.release-phase=staging",
            "--mount", $"type=volume,source={Store("staging")},target=/data", "--entrypoint", "/bin/busybox", fixture.V2.ImageReference, "sleep", "600"]);

        await bed.Deployer.TeardownAsync(bed.Staging, new DeployOptions { DeployedBy = "tester" });

        Assert.Contains($"removing {killedPhase}: it still holds the data store", bed.Log);
        Assert.Contains($"removing the data store {Store("staging")}", bed.Log);
        Assert.Equal([Store("production")], await bed.DataVolumes());
        Assert.Equal("production-schema-7", await Marker(bed.Production));
    }

    static async Task<string> PhaseContainers(HostTestBed bed) => (await Tools.RunChecked(bed.Docker,
        [.. bed.DockerHostArgs(), "ps", "--all", "--quiet", "--filter", $"label=webapp.release-phase={bed.Staging.Name}", "--filter", $"name={bed.Settings.AppName}-"])).Trim();

    [Theory]
    [InlineData("", "The release command is empty")]
    [InlineData("sh -c 'unclosed", "unclosed ' quote")]
    public void Bad_commands_are_refused_in_one_line_before_any_host_is_asked(string command, string expected)
    {
        var error = Assert.ThrowsAny<Delivery.Core.DeliveryException>(() => new ReleasePhaseSettings(command).Validate());
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Quotes_group_words_and_no_shell_runs_them() =>
        Assert.Equal(["dotnet", "WebApp.dll", "migrate --to", "a \"b\""], new ReleasePhaseSettings("dotnet WebApp.dll 'migrate --to' 'a \"b\"'").Words);
}

/// <summary>The release command's timeout, not the site's script limit, must end the command: a timeout the limit
/// cannot hold is refused before anything is sent (a fleet that sizes its lifetimes gives the phase enough instead).</summary>
public sealed class ReleasePhaseTimeLimitTests
{
    [Fact]
    public async Task A_release_command_timeout_beyond_the_site_s_script_limit_is_refused_before_anything_is_sent()
    {
        var deployer = new Deployer(new ConfigureHostTimeLimitTests.LimitedSite(TimeSpan.FromSeconds(900)), new HostSettings());
        var options = new DeployOptions
        {
            DeployedBy = "tester",
            LockWait = TimeSpan.FromSeconds(30),
            Bake = Delivery.Hosts.Bake.BakeSettings.Off,
            ReleasePhase = new ReleasePhaseSettings("/app/migrate") { Timeout = TimeSpan.FromMinutes(20) },
        };

        var error = await Assert.ThrowsAsync<Delivery.Core.DeliveryException>(() =>
            deployer.DeployAsync(DeployEnvironment.Staging, new PinnedImage("2.0.0", "registry.example/webapp", "sha256:" + new string('a', 64)), options));

        Assert.Equal("The release phase on staging can take 1230 s (release command timeout 1200 s + lock wait 30 s), more than the 900 s a limited site lets a script run; " +
                     "raise --execution-timeout or lower --release-command-timeout (nothing was sent)", error.Message);
    }
}
