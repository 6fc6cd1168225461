using System.Diagnostics;
using System.Text.Json;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>The bake against real releases: busybox images whose CGI page serves 500s or answers ten times slower,
/// behind the real proxy, judged from their own /metrics.</summary>
[Collection(HostCollection.Name)]
public sealed class BakeTests(HostFixture fixture, ITestOutputHelper output)
{
    static readonly BakeSettings Bake = new()
    {
        Duration = TimeSpan.FromSeconds(20),
        Interval = TimeSpan.FromSeconds(1),
        ProbePaths = [TestImages.PagePath],
    };

    static DeployEnvironment Metered(HostTestBed bed) => bed.Staging with { MetricsPath = TestImages.MetricsPath };

    static DeployOptions With(BakeSettings bake) => new() { DeployedBy = "tester", Bake = bake };

    [Fact]
    public async Task A_ready_release_that_serves_500s_is_rolled_back_by_its_bake_and_users_see_only_its_5xx()
    {
        await using var bed = fixture.NewBed();
        var staging = Metered(bed);
        await bed.Deploy(staging, fixture.Metered1);

        var load = Wrk.Start(staging.PublicPort, TimeSpan.FromSeconds(10), TestImages.PagePath);
        await Task.Delay(1000);
        var error = await Assert.ThrowsAsync<BakeFailedException>(() => bed.Deploy(staging, fixture.Serves5xx, With(Bake)));
        var result = await load.Result();
        var report = error.Report;

        output.WriteLine(bed.Dump());
        output.WriteLine($"load: {result}");
        output.WriteLine($"bake: {report}; rolled back {report.TimeToRollback?.TotalMilliseconds:0} ms after the switch");
        Assert.Matches(@"^Deploy of 9\.0\.0-5xx to staging failed on local: 9\.0\.0-5xx failed the bake on staging: 5xx rate 0\.\d{4} > limit 0\.01 \(\d+ of \d+ requests\); rolled back to 8\.0\.0-metered$", error.Message);
        Assert.Equal(BakeVerdict.Fail, report.Verdict);
        Assert.Equal("error-rate", report.Rule);
        Assert.Equal("8.0.0-metered", report.RolledBackTo);
        Assert.Equal(JsonDocument.Parse(bed.History(staging)[1]).RootElement.GetProperty("time").GetString(), error.SwitchedAt);
        Assert.NotNull(error.SwitchDuration);
        // The first sample breaches and switches back at once: not a wall-clock bound, which a loaded machine breaks
        // (the first sample once came 4.6 s after the switch), but no second sample and no waiting out the bake.
        Assert.Single(bed.Log, l => l.StartsWith("bake: ", StringComparison.Ordinal) && l.Contains($"/{Bake.Duration.TotalSeconds:0} s, "));
        Assert.True(report.TimeToRollback < Bake.Duration, $"a breach must switch back before the bake ends, not after {report.TimeToRollback}");
        // The health gate passed (it is /readyz), then every failed request wrk saw was a 5xx the bad release answered.
        Assert.Contains(bed.Log, l => l.Contains("is healthy"));
        Assert.Equal(0, result.SocketErrors);
        Assert.True(result.Non2xx3xx > 0, $"the load must have met the bad release: {result}");
        Assert.True(result.Non2xx3xx <= report.Errors, $"wrk saw {result.Non2xx3xx} failures but the bad release answered only {report.Errors} 5xx");
        // The proxy answered no 5xx of its own (no 503 for want of a server during either switch): every 5xx it sent a
        // user came from the bad release (slot green), and wrk saw each of them.
        var proxy = await FiveXx(bed, staging);
        Assert.Equal((proxy.Frontend, proxy.Frontend), (proxy.Green, result.Non2xx3xx));
        // Neither switch made a request wait on the proxy's side: none queued for want of a server, none retried or
        // redispatched off a server that was going away, none took as long as a user's 5 s.
        foreach (var slot in new[] { "blue", "green" })
            Assert.Equal($"{slot}: queued 0 ms, connect errors 0, retries 0, redispatches 0, slowest under 5 s", await Delays(bed, staging, slot));
        Assert.True(result.Requests > 500, result.ToString());

        Assert.Equal("8.0.0-metered", await bed.Version(staging));
        var (status, body) = await Tools.Get($"http://127.0.0.1:{staging.PublicPort}{TestImages.PagePath}");
        Assert.Equal((200, "8.0.0-metered"), (status, body));
        Assert.Contains(bed.Log, l => l.Contains("| listening on 8080"));   // the bad release's log tail
        var containers = await bed.Containers(staging);
        Assert.DoesNotContain(containers, c => c.Contains("9.0.0-5xx"));
        Assert.Contains(containers, c => c.Contains("8.0.0-metered running"));

        var history = bed.History(staging).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["deploy 8.0.0-metered", "deploy 9.0.0-5xx", "bake-failed 9.0.0-5xx", "rollback 8.0.0-metered"],
            history.Select(h => $"{h.GetProperty("action").GetString()} {h.GetProperty("version").GetString()}"));
        Assert.StartsWith("5xx rate ", history[2].GetProperty("reason").GetString());
        Assert.StartsWith("bake of 9.0.0-5xx failed: 5xx rate ", history[3].GetProperty("reason").GetString());
        Assert.Contains("\"version\":\"8.0.0-metered\"", bed.StateFile(staging, "current")!.Replace("version=", "\"version\":\"").Replace("\n", "\"\n"));
        var evidence = await bed.Deployer.PromotionEvidenceAsync(staging, fixture.Serves5xx.Digest);
        Assert.False(evidence.Verified, "a release its bake rolled back must not count as verified for promotion");
        Assert.False(Directory.Exists(Path.Combine(bed.StateRoot, "envs", "staging", "lock")), "the lock must be released");
        Assert.Empty(Directory.GetDirectories(Path.Combine(bed.StateRoot, "envs", "staging"), "bake.*"));
    }

    [Fact]
    public async Task A_release_ten_times_slower_fails_the_latency_rule()
    {
        await using var bed = fixture.NewBed();
        var staging = Metered(bed);
        await bed.Deploy(staging, fixture.Metered1);
        for (var i = 0; i < 20; i++) await Tools.Get($"http://127.0.0.1:{staging.PublicPort}{TestImages.PagePath}");

        var bake = Bake with { ProbesPerInterval = 4, LatencyFloor = TimeSpan.FromMilliseconds(50) };
        var error = await Assert.ThrowsAsync<BakeFailedException>(() => bed.Deploy(staging, fixture.TenTimesSlower, With(bake)));
        var report = error.Report;

        output.WriteLine(bed.Dump());
        output.WriteLine(error.Message);
        Assert.Equal("latency", report.Rule);
        // 50 ms requests sit in the (0.025, 0.05] bucket, 500 ms ones in (0.25, 0.5]: p99 interpolates inside them.
        Assert.Equal(0.0498, report.BaselineP99!.Value, 4);
        Assert.Equal(0.4975, report.P99!.Value, 4);
        Assert.Equal(0.0996, report.P99Limit!.Value, 4);
        Assert.Contains("failed the bake on staging: p99 0.4975 s > limit 0.0996 s (max of 2 x previous p99 0.0498 s and floor 0.05 s); rolled back to 8.0.0-metered", error.Message);
        Assert.Equal(0, report.Errors);
        Assert.Equal("8.0.0-metered", await bed.Version(staging));
        Assert.Equal("rollback", JsonDocument.Parse(bed.History(staging).Last()).RootElement.GetProperty("action").GetString());
    }

    [Fact]
    public async Task A_good_release_passes_on_probes_alone_and_the_previous_one_stops_only_after_the_bake()
    {
        await using var bed = fixture.NewBed();
        var staging = Metered(bed);
        await bed.Deploy(staging, fixture.Metered1);

        var bake = Bake with { Duration = TimeSpan.FromSeconds(4) };
        var watch = Stopwatch.StartNew();
        var deploy = bed.Deploy(staging, fixture.Metered2, With(bake));
        while (!bed.Log.ToArray().Any(l => l.StartsWith("bake: ")) && !deploy.IsCompleted) await Task.Delay(100);
        var during = await bed.Containers(staging);
        var proxyDuring = await ServerStates(bed, staging);
        var outcome = await deploy;
        var after = await bed.Containers(staging);

        output.WriteLine(bed.Dump());
        output.WriteLine($"bake: {outcome.Bake}");
        Assert.Contains(during, c => c.Contains("8.0.0-metered running"));
        // Warm but out of rotation: 8.0.0 (blue) is in maintenance, 8.1.0 (green) serves ("no check": no health checks).
        Assert.Equal("blue MAINT, green no check", proxyDuring);
        Assert.Contains(after, c => c.Contains("8.0.0-metered exited"));
        Assert.Equal(BakeVerdict.Pass, outcome.Bake.Verdict);
        Assert.True(outcome.Bake.Requests >= 40, $"probes alone (10 per second) must give the bake its requests: {outcome.Bake}");
        Assert.Equal(0, outcome.Bake.Errors);   // the metrics route's own 503 series is not counted
        Assert.Equal(0.0498, outcome.Bake.P99!.Value, 4);
        Assert.True(outcome.Timings["bake"] >= TimeSpan.FromSeconds(3.9), $"bake took {outcome.Timings["bake"]}");
        var lines = bed.Log.ToList();
        Assert.True(lines.FindIndex(l => l.Contains("passed the bake")) < lines.FindIndex(l => l.StartsWith("stopping ") && l.Contains("8.0.0-metered")),
            "the previous release is stopped only after the bake");
        Assert.Equal("8.1.0-metered", await bed.Version(staging));
        Assert.Equal(["deploy", "deploy"], bed.History(staging).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("action").GetString()));
        Assert.True(watch.Elapsed >= bake.Duration);
    }

    /// <summary>The backend's servers and their states, from the proxy's own runtime API.</summary>
    static async Task<string> ServerStates(HostTestBed bed, DeployEnvironment env)
    {
        var socket = Path.Combine(bed.StateRoot, "proxy", "admin.sock");
        var stat = await Delivery.Core.ProcessRunner.RunCheckedAsync(Tools.Require("socat", "socat"), ["-", $"UNIX-CONNECT:{socket}"],
            new Delivery.Core.ProcessOptions { StandardInput = "show stat\n" });
        var backend = $"{bed.Settings.AppName}-{env.Name}";
        return string.Join(", ", stat.StandardOutput.Split('\n').Select(l => l.Split(','))
            .Where(f => f.Length > 17 && f[0] == backend && f[1] is "blue" or "green").Select(f => $"{f[1]} {f[17]}"));
    }

    /// <summary>The 5xx answers the proxy sent users (its frontend) and those slot green's server gave it.</summary>
    static async Task<(long Frontend, long Green)> FiveXx(HostTestBed bed, DeployEnvironment env)
    {
        var socket = Path.Combine(bed.StateRoot, "proxy", "admin.sock");
        var stat = await Delivery.Core.ProcessRunner.RunCheckedAsync(Tools.Require("socat", "socat"), ["-", $"UNIX-CONNECT:{socket}"],
            new Delivery.Core.ProcessOptions { StandardInput = "show stat\n" });
        var lines = stat.StandardOutput.Split('\n');
        var column = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "hrsp_5xx");
        var backend = $"{bed.Settings.AppName}-{env.Name}";
        long Count(string server) => long.Parse(lines.Select(l => l.Split(',')).Single(f => f.Length > column && f[0] == backend && f[1] == server)[column]);
        return (Count("FRONTEND"), Count("green"));
    }

    /// <summary>What the proxy's counters say about one slot's requests: the longest wait in its queue, the connections
    /// that failed, the retries and redispatches, and whether the slowest request stayed under a user's 5 s.</summary>
    static async Task<string> Delays(HostTestBed bed, DeployEnvironment env, string server)
    {
        var socket = Path.Combine(bed.StateRoot, "proxy", "admin.sock");
        var stat = await Delivery.Core.ProcessRunner.RunCheckedAsync(Tools.Require("socat", "socat"), ["-", $"UNIX-CONNECT:{socket}"],
            new Delivery.Core.ProcessOptions { StandardInput = "show stat\n" });
        var lines = stat.StandardOutput.Split('\n');
        var columns = lines[0].TrimStart('#', ' ').Split(',');
        var backend = $"{bed.Settings.AppName}-{env.Name}";
        var row = lines.Select(l => l.Split(',')).Single(f => f.Length > 2 && f[0] == backend && f[1] == server);
        long Value(string name) => long.TryParse(row[Array.IndexOf(columns, name)], out var v) ? v : 0;
        return $"{server}: queued {Value("qtime_max")} ms, connect errors {Value("econ")}, retries {Value("wretr")}, redispatches {Value("wredis")}, " +
            (Value("ttime_max") < 5000 ? "slowest under 5 s" : $"slowest {Value("ttime_max")} ms");
    }

    [Fact]
    public async Task Bake_time_zero_is_the_deploy_of_before_no_baseline_no_watch()
    {
        await using var bed = fixture.NewBed();
        var staging = Metered(bed);
        await bed.Deploy(staging, fixture.Metered1);
        var outcome = await bed.Deploy(staging, fixture.Serves5xx, With(BakeSettings.Off));

        Assert.Equal(BakeVerdict.Off, outcome.Bake.Verdict);
        Assert.DoesNotContain("bake", outcome.Timings.Keys);
        Assert.DoesNotContain("baseline", outcome.Timings.Keys);
        Assert.Equal("9.0.0-5xx", await bed.Version(staging));
        Assert.Contains(await bed.Containers(staging), c => c.Contains("8.0.0-metered exited"));
    }

    [Fact]
    public async Task The_first_release_of_an_environment_skips_the_bake_as_there_is_nothing_to_roll_back_to()
    {
        await using var bed = fixture.NewBed();
        var staging = Metered(bed);
        var outcome = await bed.Deploy(staging, fixture.Metered1, With(Bake));

        Assert.Equal(BakeVerdict.Skipped, outcome.Bake.Verdict);
        Assert.True(outcome.Timings["bake"] < TimeSpan.FromSeconds(1));
        Assert.Contains(bed.Log, l => l == "bake skipped: 8.0.0-metered is the first release on staging, so there is nothing to roll back to");
    }
}
