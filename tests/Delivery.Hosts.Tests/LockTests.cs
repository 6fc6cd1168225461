using Delivery.Core;
using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

[Collection(HostCollection.Name)]
public sealed class LockTests(HostFixture fixture, ITestOutputHelper output)
{
    static async Task<string> WaitForLockHolder(HostTestBed bed, DeployEnvironment env)
    {
        var holder = Path.Combine(bed.StateRoot, "envs", env.Name, "lock", "holder");
        for (var i = 0; i < 1500 && !File.Exists(holder); i++) await Task.Delay(20);
        Assert.True(File.Exists(holder), "the first deploy never took the lock");
        return File.ReadAllText(holder);
    }

    /// <summary>The release has started and its deploy logged the health wait after that.</summary>
    static bool InHealthWait(string[] log, string version)
    {
        var started = Array.FindIndex(log, l => l.StartsWith("started ") && l.Contains($"({version})"));
        return started >= 0 && log.Skip(started + 1).Any(l => l.StartsWith("waiting up to "));
    }

    static string Field(string holder, string key) =>
        holder.Split('\n').First(l => l.StartsWith(key + "=")).Split('=', 2)[1];

    [Fact]
    public async Task A_second_deploy_of_the_same_environment_fails_at_once_naming_the_holder()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        // A release that never answers holds the lock through its 20 s health gate: on a loaded machine, a first deploy
        // that succeeds had ended before the second one began.
        var first = bed.Deploy(bed.Staging with { HealthTimeout = TimeSpan.FromSeconds(20) }, fixture.NeverReady, new DeployOptions { DeployedBy = "alice" });
        var holder = await WaitForLockHolder(bed, bed.Staging);

        var error = await bed.DeployFails(bed.Staging, fixture.V2, new DeployOptions { DeployedBy = "bob" });
        await Assert.ThrowsAnyAsync<DeliveryException>(() => first);

        output.WriteLine(error.Message);
        Assert.StartsWith($"Deploy of 2.0.0 to staging failed on local: staging is locked by deploy of 5.0.0-never-ready by alice on {Environment.MachineName} (pid {Field(holder, "pid")}) since ", error.Message);
        Assert.Contains("--lock-wait", error.Message);
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Single(bed.History(bed.Staging));
    }

    [Fact]
    public async Task With_lock_wait_the_second_deploy_waits_for_the_first_and_then_deploys()
    {
        await using var bed = fixture.NewBed();
        var first = bed.Deploy(bed.Staging, fixture.V1);
        await WaitForLockHolder(bed, bed.Staging);

        var second = await bed.Deploy(bed.Staging, fixture.V2, new DeployOptions { DeployedBy = "tester", LockWait = TimeSpan.FromSeconds(120) });
        await first;

        Assert.Equal("2.0.0", second.Release.Version);
        Assert.Equal("1.0.0", second.PreviousVersion);
        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
        Assert.Equal(2, bed.History(bed.Staging).Length);
    }

    [Fact]
    public async Task Staging_and_production_deploy_at_the_same_time()
    {
        await using var bed = fixture.NewBed();
        await Task.WhenAll(bed.Deploy(bed.Staging, fixture.V1), bed.Deploy(bed.Production, fixture.V2));
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Equal("2.0.0", await bed.Version(bed.Production));

        await Task.WhenAll(bed.Deploy(bed.Staging, fixture.V3), bed.Deploy(bed.Production, fixture.V4));
        Assert.Equal("3.0.0", await bed.Version(bed.Staging));
        Assert.Equal("4.0.0", await bed.Version(bed.Production));
    }

    [Fact]
    public async Task A_deploy_killed_during_the_health_wait_leaves_the_old_release_serving_and_the_next_deploy_takes_the_stale_lock()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);

        var doomed = bed.Deploy(bed.Staging, fixture.NeverReady);
        var holder = await WaitForLockHolder(bed, bed.Staging);
        // Killed in its 20 s health wait, however long the pull and start before it take on a loaded machine: a fixed
        // 10 s bound on the wait for its start ran on without it, and a kill before the start leaves no container.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!InHealthWait(bed.LogSoFar(), fixture.NeverReady.Version))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1) && !doomed.IsCompleted, $"the deploy never reached its health wait:\n{bed.Dump()}");
            await Task.Delay(20);
        }
        var pid = Field(holder, "pid");
        await Tools.RunChecked("kill", "-KILL", pid);
        var killed = await Assert.ThrowsAnyAsync<DeliveryException>(() => doomed);
        output.WriteLine(killed.Message);

        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.True(Directory.Exists(Path.Combine(bed.StateRoot, "envs", "staging", "lock")), "SIGKILL leaves the lock behind");
        Assert.Contains(await bed.Containers(bed.Staging, all: false), c => c.Contains("5.0.0-never-ready"));

        bed.Log.Clear();
        await bed.Deploy(bed.Staging, fixture.V2);

        output.WriteLine(bed.Dump());
        Assert.Contains(bed.Log, l => l.StartsWith($"stale lock on staging from deploy of 5.0.0-never-ready by tester on {Environment.MachineName} (pid {pid}) since ") && l.EndsWith($"(pid {pid} is gone); taking it over"));
        Assert.Contains(bed.Log, l => l.Contains("an interrupted run left it running and it never served"));
        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
        Assert.DoesNotContain(await bed.Containers(bed.Staging), c => c.Contains("never-ready"));
        Assert.Equal(["1.0.0", "2.0.0"], bed.History(bed.Staging).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task A_lock_held_by_a_live_process_is_not_stale_and_force_unlock_removes_it()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        // A holder that is alive on this host: this test process itself.
        var lockDir = Path.Combine(bed.StateRoot, "envs", "staging", "lock");
        Directory.CreateDirectory(lockDir);
        var me = Environment.ProcessId;
        var start = File.ReadAllText($"/proc/{me}/stat").Split(") ", 2)[1].Split(' ')[19];
        File.WriteAllText(Path.Combine(lockDir, "holder"),
            $"what=deploy of 9.9.9\nuser=carol\nhost={Environment.MachineName}\npid={me}\npidstart={start}\nsince=2026-01-01T00:00:00Z\n");

        var error = await bed.DeployFails(bed.Staging, fixture.V2);
        Assert.Equal($"Deploy of 2.0.0 to staging failed on local: staging is locked by deploy of 9.9.9 by carol on {Environment.MachineName} (pid {me}) since 2026-01-01T00:00:00Z; try again later, wait with --lock-wait <seconds>, or force-unlock it if that process is gone", error.Message);
        var status = await bed.Deployer.StatusAsync(bed.Staging);
        Assert.Equal($"deploy of 9.9.9 by carol on {Environment.MachineName} (pid {me}) since 2026-01-01T00:00:00Z", status.LockHolder);

        await bed.Deployer.ForceUnlockAsync(bed.Staging);
        Assert.Contains(bed.Log, l => l.StartsWith("removing the lock on staging held by deploy of 9.9.9 by carol"));
        Assert.False(Directory.Exists(lockDir));
        await bed.Deploy(bed.Staging, fixture.V2);
        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
    }
}
