using System.Text.Json;
using System.Text.RegularExpressions;
using Delivery.Aws;
using Delivery.Hosts;
using EndToEnd.Tests.Infrastructure;
using TestSupport;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>
/// Issue 20's operator features on an SSM fleet through ./build.sh: maintenance mode, the release phase and
/// Status --verify-rollback, each through the AWS test endpoint's fake instances (each its own host: state root,
/// HAProxy, containers, ports), the same path they take on this machine.
/// </summary>
[Collection(FleetOperatorCloneCollection.Name)]
public sealed class FleetOperatorFeatureTests(CloneFixture clone, FleetFixture fleet, ITestOutputHelper output) : CloneTests(clone), IClassFixture<FleetFixture>
{
    /// <summary>Short timeouts the tests set themselves, so a failure path never waits for a default; every run's
    /// output goes to the test's log (the transcript of each feature on a fleet).</summary>
    async Task<BuildRun> BuildAsync(params string[] arguments)
    {
        var run = await Clone.BuildAsync(fleet.AwsEnvironment(),
            [.. arguments, "--bake-seconds", "0", "--delivery-timeout", "60s", "--allow-unattested"]);
        output.WriteLine($"$ ./build.sh {string.Join(' ', run.Arguments)}   (exit {run.ExitCode})");
        foreach (var line in run.Lines) output.WriteLine(line);
        output.WriteLine("");
        return run;
    }

    List<FleetFixture.Instance> Three => fleet.Instances.Take(3).ToList();

    static async Task<(int Status, string Body, string? RetryAfter)> Get(int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}{path}");
        var retry = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), retry);
    }

    static async Task<(int Status, string Body)> Body(int port, string path)
    {
        var (status, body, _) = await Get(port, path);
        return (status, status == 200 ? body : "");
    }

    static IReadOnlyList<string> History(FleetFixture.Instance instance, string environment)
    {
        var path = Path.Combine(instance.Root, "envs", environment, "history.jsonl");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    [Fact]
    public async Task Maintenance_on_every_instance_survives_a_deploy_shows_in_Status_and_goes_off_without_a_socket_error()
    {
        const string message = "Database upgrade: back at 18:00 <UTC> & later";
        string[] both = ["--staging-targets", fleet.Tag, "--production-targets", fleet.Tag];
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. both]));
        BuildAssert.Succeeded(await BuildAsync(["DeployProduction", "--skip", .. both]));

        var on = await BuildAsync(["Maintenance", "--environment", "staging", "--on", "--message", message, "--retry-after", "2m", .. both]);

        BuildAssert.Succeeded(on);
        var note = on.SummaryNote("Maintenance") ?? "";
        foreach (var i in Three)
        {
            var (code, body, retry) = await Get(i.StagingPort, "/");
            Assert.Equal((503, "120"), (code, retry));
            Assert.Contains("<p class=\"lead mb-0\" data-testid=\"maintenance-message\">Database upgrade: back at 18:00 &lt;UTC&gt; &amp; later</p>", body);
            Assert.Equal((503, "120"), await Get(i.StagingPort, "/version") is var v ? (v.Status, v.RetryAfter) : default);
            Assert.Equal((200, "ready"), await Get(i.StagingPort, "/readyz") is var r ? (r.Status, r.Body.Trim()) : default);
            Assert.Equal("1.0.0", await fleet.VersionAsync(i.ProductionPort));
            Assert.Contains($"{i.Id}: staging in maintenance since ", note);
        }

        var status = await BuildAsync(["Status", .. both]);
        BuildAssert.Succeeded(status);
        foreach (var i in Three)
        {
            BuildAssert.HasLine(status, l => Regex.IsMatch(l, $"staging on {i.Id} is in maintenance since [0-9T:-]+Z \\(by [^)]+\\): {Regex.Escape(message)}$"), $"{i.Id} in maintenance");
            Assert.DoesNotContain(status.OutputLines, l => l.Contains($"production on {i.Id} is in maintenance"));
        }

        // A deploy while on keeps it on: the new release is in place, its users still see the page.
        await WriteImageAsync(fleet.V2);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. both]));
        foreach (var i in Three)
        {
            Assert.Equal(503, (await Get(i.StagingPort, "/")).Status);
            Assert.True(File.Exists(Path.Combine(i.Root, "envs", "staging", "maintenance")), $"{i.Id} left maintenance");
        }

        // Off under load on the first instance: the page, then the release, and never a refused or reset connection.
        var first = Three[0];
        // The load runs until the test stops it, so a slow --off on a loaded machine cannot outlast it (a fixed window
        // did once: every request was a 503); it stops once the instance has answered 200 again, so it saw both sides.
        await using var load = Wrk.StartUntilStopped(first.StagingPort, TimeSpan.FromMinutes(3));
        await Task.Delay(1500);
        var off = await BuildAsync(["Maintenance", "--environment", "staging", "--off", .. both]);
        Assert.Equal(200, (await Get(first.StagingPort, "/")).Status);
        await Task.Delay(500);
        var result = await load.StopAsync();
        output.WriteLine($"wrk on {first.Id} staging during --off: {result}");

        BuildAssert.Succeeded(off);
        Assert.True(result.Requests > 100, result.ToString());
        Assert.Equal(0, result.SocketErrors);
        Assert.InRange(result.Non2xx3xx, 1, result.Requests - 1); // the 503s before the switch back, 200s after
        foreach (var i in Three)
        {
            Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
            Assert.Equal("1.0.0", await fleet.VersionAsync(i.ProductionPort));
            Assert.Contains($"{i.Id}: staging serving (maintenance off)", off.SummaryNote("Maintenance"));
        }

        // On again, and a rollback with --end-maintenance ends it once the release serves.
        BuildAssert.Succeeded(await BuildAsync(["Maintenance", "--environment", "staging", "--on", .. both]));
        var ended = await BuildAsync(["Rollback", "--environment", "staging", "--end-maintenance", .. both]);
        BuildAssert.Succeeded(ended);
        foreach (var i in Three)
        {
            Assert.Equal("1.0.0", await fleet.VersionAsync(i.StagingPort));
            Assert.False(File.Exists(Path.Combine(i.Root, "envs", "staging", "maintenance")), $"{i.Id} still in maintenance");
            Assert.DoesNotContain(i.Id, string.Join('\n', History(i, "production").Where(h => h.Contains("maintenance"))));
        }
    }

    [Fact]
    public async Task The_release_command_runs_once_on_the_first_instance_before_any_switch_and_a_failing_one_switches_none()
    {
        var instances = Three;
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag));
        var before = fleet.Endpoint.Invocations.Count;
        var marker = $"migrated-{fleet.RunId}";

        await WriteImageAsync(fleet.V2);
        var run = await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag,
            "--release-command", $"/bin/busybox sh -c 'echo \"{marker} to $(cat /www/version)\" | /bin/busybox tee /data/migration'", "--release-command-timeout", "30s");

        BuildAssert.Succeeded(run);
        var invocations = fleet.Endpoint.Invocations.Skip(before).ToList();
        var withMarker = invocations.Where(x => fleet.Endpoint.Output(x.CommandId, x.InstanceId).Contains($"release phase: {marker} to 1.1.0")).ToList();
        var phase = Assert.Single(withMarker);
        Assert.Equal(instances[0].Id, phase.InstanceId);
        Assert.Single(invocations, x => x.CommandId == phase.CommandId); // sent to that instance alone
        // Before it, only read-only commands went out, each to every instance at once: the pull check and the query
        // that picks the first host; the deploy's command reached each instance after it.
        var phaseAt = invocations.IndexOf(phase);
        var earlier = invocations.Take(phaseAt).GroupBy(x => x.CommandId).ToList();
        Assert.Equal(2, earlier.Count);
        Assert.All(earlier, g => Assert.Equal(instances.Select(i => i.Id).Order(), g.Select(x => x.InstanceId).Order()));
        Assert.Single(earlier, g => fleet.Endpoint.Output(g.Key, instances[1].Id).Contains("\"kind\":\"current\""));
        var deploy = invocations.Skip(phaseAt + 1).ToList();
        Assert.Equal(instances.Select(i => i.Id).Order(), deploy.Select(x => x.InstanceId).Distinct().Order());
        var shown = run.OutputLines.ToList();
        var markerLine = shown.FindIndex(l => l.Contains($"release phase: {marker} to 1.1.0"));
        Assert.True(markerLine >= 0, $"the command's output is not in the build's log\n{run}");
        Assert.True(markerLine < shown.FindIndex(l => l.StartsWith("Deploy of 1.1.0 to staging: ", StringComparison.Ordinal)), run.ToString());
        Assert.Contains(shown, l => l.StartsWith($"release phase passed on {instances[0].Id} in ", StringComparison.Ordinal));
        foreach (var i in instances)
        {
            Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
            using var last = JsonDocument.Parse(History(i, "staging")[^1]);
            Assert.Equal("1.1.0", last.RootElement.GetProperty("version").GetString());
        }
        Assert.True(JsonDocument.Parse(History(instances[0], "staging")[^1]).RootElement.TryGetProperty("release_phase_ms", out _), "the first instance's history does not note the release phase");
        // The marker went to the first instance's data store, and the release it now serves reads it through its proxy.
        // Each instance has a store of its own: the others' stores never saw the phase (a fleet needs a shared store).
        Assert.Equal((200, $"{marker} to 1.1.0\n"), await Body(instances[0].StagingPort, "/data/migration"));
        foreach (var i in instances.Skip(1))
            Assert.Equal(404, (await Body(i.StagingPort, "/data/migration")).Status);

        // A failing command: one line with its exit code and last output, and no instance switches.
        await WriteImageAsync(fleet.Metered);
        var histories = instances.Select(i => History(i, "staging").Count).ToList();
        var failed = await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag,
            "--release-command", "/bin/busybox sh -c 'echo step one; echo relation users already exists >&2; exit 7'", "--release-command-timeout", "30s");

        var message = BuildAssert.TargetFailure(failed, "DeployStaging");
        Assert.DoesNotContain('\n', message);
        Assert.Contains("release phase failed with exit code 7; nothing was switched; last output: ", message);
        Assert.Contains("step one", message);
        Assert.Contains("relation users already exists", message);
        Assert.Contains(instances[0].Id, message);
        foreach (var (i, n) in instances.Zip(histories))
        {
            Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
            Assert.Equal(n, History(i, "staging").Count);
        }
    }

    [Fact]
    public async Task A_release_command_that_outlives_its_timeout_stops_the_deploy_in_one_line_and_every_instance_keeps_serving()
    {
        var instances = Three;
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag));
        var versions = new List<string>();
        foreach (var i in instances) versions.Add(await fleet.VersionAsync(i.StagingPort));
        var histories = instances.Select(i => History(i, "staging").Count).ToList();
        var before = fleet.Endpoint.Invocations.Count;
        // Earlier tests of this class may have left 1.1.0 as a rollback target: what counts is that none is added.
        var docker = Tools.Require("docker", "docker.io");
        async Task<string> Containers(FleetFixture.Instance i) =>
            (await Tools.RunChecked(docker, "ps", "--all", "--no-trunc", "--format", "{{.Names}} {{.State}}", "--filter", $"label=webapp.app={i.App}")).Trim();
        var containers = new List<string>();
        foreach (var i in instances) containers.Add(await Containers(i));

        await WriteImageAsync(fleet.V2);
        string[] hanging = ["DeployStaging", "--skip", "--staging-targets", fleet.Tag, "--release-command", "/bin/busybox sh -c 'echo waiting for the lock; sleep 600'"];

        // With lifetimes fixed by --execution-timeout, a release command timeout the agent would cut short is refused
        // before anything is sent.
        var received = fleet.Endpoint.Received.Count;
        var refused = await BuildAsync([.. hanging, "--release-command-timeout", "30s", "--execution-timeout", "20s"]);
        Assert.Matches(@"^The release phase on staging can take 30 s \(release command timeout 30 s \+ lock wait 0 s\), more than the 20 s .+ lets a script run; raise --execution-timeout or lower --release-command-timeout \(nothing was sent\)$",
            BuildAssert.TargetFailure(refused, "DeployStaging"));
        Assert.Equal(received, fleet.Endpoint.Received.Count);

        // Lifetimes sized by the build (no --delivery-timeout or --execution-timeout): the phase's command gets its own.
        var run = await Clone.BuildAsync(fleet.AwsEnvironment(), [.. hanging, "--release-command-timeout", "3s", "--bake-seconds", "0", "--allow-unattested"]);
        output.WriteLine($"$ ./build.sh {string.Join(' ', run.Arguments)}   (exit {run.ExitCode})");
        foreach (var line in run.Lines) output.WriteLine(line);

        var message = BuildAssert.TargetFailure(run, "DeployStaging");
        Assert.DoesNotContain('\n', message);
        Assert.Contains($"failed on {instances[0].Id}: release phase timed out after 3s (exit code 137); nothing was switched; last output: waiting for the lock", message);
        // The phase's own SSM command: the agent's executionTimeout holds the command's timeout plus a deploy's margin,
        // so the release phase's timeout, not the agent, ends it (and its trap removes its container).
        var phase = Assert.Single(fleet.Endpoint.Invocations.Skip(before), x => fleet.Endpoint.Output(x.CommandId, x.InstanceId).Contains("release phase timed out"));
        Assert.Equal(instances[0].Id, phase.InstanceId);
        Assert.Equal("Failed", phase.Status);
        var execution = fleet.Endpoint.ExecutionTimeoutSeconds(phase.CommandId);
        Assert.True(execution >= FleetLifetimes.PerInstance(TimeSpan.FromSeconds(3), TimeSpan.Zero).TotalSeconds, $"executionTimeout {execution} s does not hold the release phase");
        BuildAssert.HasLine(run, l => l.Contains("Release phase of 1.1.0 on staging: 1 instance(s)", StringComparison.Ordinal) && l.Contains($"executionTimeout {execution},", StringComparison.Ordinal), "the phase's lifetimes in the log");
        foreach (var (i, n, v, c) in instances.Zip(histories, versions).Zip(containers, (a, c) => (a.First, a.Second, a.Third, c)))
        {
            Assert.Equal(v, await fleet.VersionAsync(i.StagingPort));
            Assert.Equal(n, History(i, "staging").Count);
            Assert.Equal("", (await Tools.RunChecked(docker, "ps", "--all", "--quiet", "--filter", $"name={i.App}-staging-release-phase")).Trim());
            Assert.Equal(c, await Containers(i));
        }
    }

    [Fact]
    public async Task Verify_rollback_shows_each_instance_s_retained_target_and_one_whose_image_is_gone_as_missing()
    {
        var (first, second, third) = (Three[0], Three[1], Three[2]);
        // The fake instances share this machine's dockerd, so "deleted on one instance" means one instance retains
        // a release the others never ran: 2.0.0 on the first, 1.0.0 on the others.
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag));
        await WriteImageAsync(fleet.Metered);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", first.Id));
        await WriteImageAsync(fleet.V2);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag));

        var good = await BuildAsync("Status", "--verify-rollback", "--staging-targets", fleet.Tag, "--production-targets", fleet.Tag);

        BuildAssert.Succeeded(good);
        BuildAssert.HasLine(good, l => Regex.IsMatch(l, $"^{first.Id} +staging +2\\.0\\.0 +{Regex.Escape(fleet.Metered.Digest[..19])}\\S* +ok +on this host; passed /readyz on 127\\.0\\.0\\.1:[0-9]+$"), "the first instance's 2.0.0 ok");
        foreach (var i in new[] { second, third })
            BuildAssert.HasLine(good, l => Regex.IsMatch(l, $"^{i.Id} +staging +1\\.0\\.0 +\\S+ +ok +on this host; passed /readyz on 127\\.0\\.0\\.1:[0-9]+$"), $"{i.Id}'s 1.0.0 ok");

        // 2.0.0 leaves the host and the registry: only the first instance's rollback would fail.
        var docker = Tools.Require("docker", "docker.io");
        await Tools.Run(docker, "image", "rm", "--force", $"{fleet.Metered.Repository}:{fleet.Metered.Version}", $"{fleet.Metered.Repository}@{fleet.Metered.Digest}");
        using (var http = new HttpClient())
            Assert.True((await http.DeleteAsync($"http://{fleet.Registry.Address}/v2/e2e-fleet/manifests/{fleet.Metered.Digest}")).IsSuccessStatusCode);

        var bad = await BuildAsync("Status", "--verify-rollback", "--staging-targets", fleet.Tag, "--production-targets", fleet.Tag);

        Assert.Equal($"1 rollback target(s) would not work: staging 2.0.0 on {first.Id}: missing", BuildAssert.TargetFailure(bad, "Status"));
        BuildAssert.HasLine(bad, l => Regex.IsMatch(l, $"^{first.Id} +staging +2\\.0\\.0 +\\S+ +missing +neither on this host nor in {Regex.Escape(fleet.Registry.Address)} \\(HTTP 404 for {fleet.Metered.Digest}\\)$"), "the first instance's 2.0.0 missing");
        foreach (var i in new[] { second, third })
        {
            BuildAssert.HasLine(bad, l => Regex.IsMatch(l, $"^{i.Id} +staging +1\\.0\\.0 +\\S+ +ok +on this host; "), $"{i.Id}'s 1.0.0 still ok");
            Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
        }
        Assert.Equal("1.1.0", await fleet.VersionAsync(first.StagingPort));
    }
}
