using System.Text.Json;
using Delivery.Aws;
using EndToEnd.Tests.Infrastructure;
using TestSupport;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>The release phase on a fleet: its command runs once, on the first instance, before any switch.</summary>
[Collection(FleetReleasePhaseCloneCollection.Name)]
public sealed class FleetReleasePhaseTests(CloneFixture clone, FleetFixture fleet, ITestOutputHelper output)
    : FleetOperatorTests(clone, fleet, output), IClassFixture<FleetFixture>
{
    [Fact]
    public async Task The_release_command_runs_once_on_the_first_instance_before_any_switch_and_a_failing_one_switches_none()
    {
        var instances = Three;
        await WriteImageAsync(Fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag));
        var before = Fleet.Endpoint.Invocations.Count;
        var marker = $"migrated-{Fleet.RunId}";

        await WriteImageAsync(Fleet.V2);
        var run = await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag,
            "--release-command", $"/bin/busybox sh -c 'echo \"{marker} to $(cat /www/version)\" | /bin/busybox tee /data/migration'", "--release-command-timeout", "30s");

        BuildAssert.Succeeded(run);
        var invocations = Fleet.Endpoint.Invocations.Skip(before).ToList();
        var withMarker = invocations.Where(x => Fleet.Endpoint.Output(x.CommandId, x.InstanceId).Contains($"release phase: {marker} to 1.1.0")).ToList();
        var phase = Assert.Single(withMarker);
        Assert.Equal(instances[0].Id, phase.InstanceId);
        Assert.Single(invocations, x => x.CommandId == phase.CommandId); // sent to that instance alone
        // Before it, only read-only commands went out, each to every instance at once: the pull check and the query
        // that picks the first host; the deploy's command reached each instance after it.
        var phaseAt = invocations.IndexOf(phase);
        var earlier = invocations.Take(phaseAt).GroupBy(x => x.CommandId).ToList();
        Assert.Equal(2, earlier.Count);
        Assert.All(earlier, g => Assert.Equal(instances.Select(i => i.Id).Order(), g.Select(x => x.InstanceId).Order()));
        Assert.Single(earlier, g => Fleet.Endpoint.Output(g.Key, instances[1].Id).Contains("\"kind\":\"current\""));
        var deploy = invocations.Skip(phaseAt + 1).ToList();
        Assert.Equal(instances.Select(i => i.Id).Order(), deploy.Select(x => x.InstanceId).Distinct().Order());
        var shown = run.OutputLines.ToList();
        var markerLine = shown.FindIndex(l => l.Contains($"release phase: {marker} to 1.1.0"));
        Assert.True(markerLine >= 0, $"the command's output is not in the build's log\n{run}");
        Assert.True(markerLine < shown.FindIndex(l => l.StartsWith("Deploy of 1.1.0 to staging: ", StringComparison.Ordinal)), run.ToString());
        Assert.Contains(shown, l => l.StartsWith($"release phase passed on {instances[0].Id} in ", StringComparison.Ordinal));
        foreach (var i in instances)
        {
            Assert.Equal("1.1.0", await Fleet.VersionAsync(i.StagingPort));
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
        await WriteImageAsync(Fleet.Metered);
        var histories = instances.Select(i => History(i, "staging").Count).ToList();
        var failed = await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag,
            "--release-command", "/bin/busybox sh -c 'echo step one; echo relation users already exists >&2; exit 7'", "--release-command-timeout", "30s");

        var message = BuildAssert.TargetFailure(failed, "DeployStaging");
        Assert.DoesNotContain('\n', message);
        Assert.Contains("release phase failed with exit code 7; nothing was switched; last output: ", message);
        Assert.Contains("step one", message);
        Assert.Contains("relation users already exists", message);
        Assert.Contains(instances[0].Id, message);
        foreach (var (i, n) in instances.Zip(histories))
        {
            Assert.Equal("1.1.0", await Fleet.VersionAsync(i.StagingPort));
            Assert.Equal(n, History(i, "staging").Count);
        }
    }

    [Fact]
    public async Task A_release_command_that_outlives_its_timeout_stops_the_deploy_in_one_line_and_every_instance_keeps_serving()
    {
        var instances = Three;
        await WriteImageAsync(Fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag));
        var versions = new List<string>();
        foreach (var i in instances) versions.Add(await Fleet.VersionAsync(i.StagingPort));
        var histories = instances.Select(i => History(i, "staging").Count).ToList();
        var before = Fleet.Endpoint.Invocations.Count;
        // Earlier tests of this class may have left 1.1.0 as a rollback target: what counts is that none is added.
        var docker = Tools.Require("docker", "docker.io");
        async Task<string> Containers(FleetFixture.Instance i) =>
            (await Tools.RunChecked(docker, "ps", "--all", "--no-trunc", "--format", "{{.Names}} {{.State}}", "--filter", $"label=webapp.app={i.App}")).Trim();
        var containers = new List<string>();
        foreach (var i in instances) containers.Add(await Containers(i));

        await WriteImageAsync(Fleet.V2);
        string[] hanging = ["DeployStaging", "--skip", "--staging-targets", Fleet.Tag, "--release-command", "/bin/busybox sh -c 'echo waiting for the lock; sleep 600'"];

        // With lifetimes fixed by --execution-timeout, a release command timeout the agent would cut short is refused
        // before anything is sent.
        var received = Fleet.Endpoint.Received.Count;
        var refused = await BuildAsync([.. hanging, "--release-command-timeout", "30s", "--execution-timeout", "20s"]);
        Assert.Matches(@"^The release phase on staging can take 30 s \(release command timeout 30 s \+ lock wait 0 s\), more than the 20 s .+ lets a script run; raise --execution-timeout or lower --release-command-timeout \(nothing was sent\)$",
            BuildAssert.TargetFailure(refused, "DeployStaging"));
        Assert.Equal(received, Fleet.Endpoint.Received.Count);

        // Lifetimes sized by the build (no --delivery-timeout or --execution-timeout): the phase's command gets its own.
        var run = Transcribe(await Clone.BuildAsync(Fleet.AwsEnvironment(), [.. hanging, "--release-command-timeout", "3s", "--bake-seconds", "0", "--allow-unattested"]));

        var message = BuildAssert.TargetFailure(run, "DeployStaging");
        Assert.DoesNotContain('\n', message);
        Assert.Contains($"failed on {instances[0].Id}: release phase timed out after 3s (exit code 137); nothing was switched; last output: waiting for the lock", message);
        // The phase's own SSM command: the agent's executionTimeout holds the command's timeout plus a deploy's margin,
        // so the release phase's timeout, not the agent, ends it (and its trap removes its container).
        var phase = Assert.Single(Fleet.Endpoint.Invocations.Skip(before), x => Fleet.Endpoint.Output(x.CommandId, x.InstanceId).Contains("release phase timed out"));
        Assert.Equal(instances[0].Id, phase.InstanceId);
        Assert.Equal("Failed", phase.Status);
        var execution = Fleet.Endpoint.ExecutionTimeoutSeconds(phase.CommandId);
        Assert.True(execution >= FleetLifetimes.PerInstance(TimeSpan.FromSeconds(3), TimeSpan.Zero).TotalSeconds, $"executionTimeout {execution} s does not hold the release phase");
        BuildAssert.HasLine(run, l => l.Contains("Release phase of 1.1.0 on staging: 1 instance(s)", StringComparison.Ordinal) && l.Contains($"executionTimeout {execution},", StringComparison.Ordinal), "the phase's lifetimes in the log");
        foreach (var (i, n, v, c) in instances.Zip(histories, versions).Zip(containers, (a, c) => (a.First, a.Second, a.Third, c)))
        {
            Assert.Equal(v, await Fleet.VersionAsync(i.StagingPort));
            Assert.Equal(n, History(i, "staging").Count);
            Assert.Equal("", (await Tools.RunChecked(docker, "ps", "--all", "--quiet", "--filter", $"name={i.App}-staging-release-phase")).Trim());
            Assert.Equal(c, await Containers(i));
        }
    }
}
