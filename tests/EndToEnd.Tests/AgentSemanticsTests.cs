using System.Diagnostics;
using System.Text.Json;
using Aws.TestEndpoint;
using Delivery.Hosts;
using TestSupport;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// ./build.sh against instances that behave as amazon-ssm-agent does: an offline instance stops a deploy before
/// anything is sent, and a deploy SIGKILLed mid-switch (CancelCommand) is repaired by the next deploy.
/// </summary>
[Collection(AgentCloneCollection.Name)]
public sealed class AgentSemanticsTests(CloneFixture clone, FleetFixture fleet) : CloneTests(clone), IClassFixture<FleetFixture>
{
    // The fleet's images are pushed by the fixture, without provenance.
    Task<BuildRun> BuildAsync(params string[] arguments) => Clone.BuildAsync(fleet.AwsEnvironment(), [.. arguments, "--bake-seconds", "0", "--allow-unattested"]);

    static async Task<List<string>> Containers(FleetFixture.Instance instance, bool all)
    {
        var docker = Tools.Require("docker", "docker.io");
        var ps = await Tools.Run(docker, ["ps", .. all ? new[] { "--all" } : [], "--format", "{{.Names}} {{.Label \"webapp.digest\"}}",
            "--filter", $"label=webapp.app={instance.App}", "--filter", "label=webapp.environment=staging"]);
        return ps.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    [Fact]
    public async Task An_offline_instance_stops_the_deploy_before_anything_is_sent_naming_it_and_its_PingStatus()
    {
        var offline = fleet.Instances[1];
        await WriteImageAsync(fleet.V1);
        var before = fleet.Endpoint.Invocations.Count;
        // The fixture's fleet is shared by this class's tests: what an instance runs must not change, whatever ran before.
        var containersBefore = new List<List<string>>();
        foreach (var instance in fleet.Instances.Take(3)) containersBefore.Add(await Containers(instance, all: true));
        offline.Fake.Online = false;
        try
        {
            var run = await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag);

            Assert.Equal($"Deploy of 1.0.0 to staging: nothing was sent; 1 of 3 instance(s) cannot take a command: {offline.Id} (ConnectionLost) " +
                         "(bring them back, or pass --skip-offline to roll the others)", BuildAssert.TargetFailure(run, "DeployStaging"));
            Assert.Equal(before, fleet.Endpoint.Invocations.Count);
            var i = 0;
            foreach (var instance in fleet.Instances.Take(3)) Assert.Equal(containersBefore[i++], await Containers(instance, all: true));
        }
        finally
        {
            offline.Fake.Online = true;
        }
    }

    [Fact]
    public async Task Skip_offline_rolls_the_online_instances_and_names_the_offline_one_in_the_table_and_the_record()
    {
        var offline = fleet.Instances[1];
        await WriteImageAsync(fleet.V1);
        offline.Fake.Online = false;
        try
        {
            var run = await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag, "--skip-offline");

            BuildAssert.Succeeded(run);
            Assert.Contains(run.OutputLines, l => l.Contains(offline.Id) && l.Contains("skipped: offline (ConnectionLost)"));
            Assert.Contains(run.OutputLines, l => l.Contains("Recorded 1.0.0 in Parameter Store /webapp/staging/release") && l.Contains($"skipped: {offline.Id} (offline (ConnectionLost))"));
            Assert.DoesNotContain(fleet.Endpoint.Invocations, i => i.InstanceId == offline.Id);
            Assert.Empty(await Containers(offline, all: true));
        }
        finally
        {
            offline.Fake.Online = true;
        }
    }

    [Fact]
    public async Task A_deploy_killed_mid_switch_by_CancelCommand_is_reconciled_by_the_next_deploy()
    {
        var solo = fleet.Instances[3];
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", solo.Id));

        // A socat in front of the real one: when the switch tells the proxy the new slot (green: 1.0.0 serves from
        // blue) is ready, it marks the moment and hangs, so the kill lands mid-switch (new server address set, not yet
        // ready, nothing committed). The reconcile step's "blue state ready" for the current slot passes through.
        var shim = Directory.CreateTempSubdirectory("e2e-socat-shim-").FullName;
        var mark = Path.Combine(shim, "switching");
        File.WriteAllText(Path.Combine(shim, "socat"), $$"""
            #!/bin/sh
            input=$(cat)
            case "$input" in *"/green state ready"*) : > '{{mark}}'; sleep 300 ;; esac
            printf '%s\n' "$input" | exec /usr/bin/socat "$@"
            """);
        File.SetUnixFileMode(Path.Combine(shim, "socat"), (UnixFileMode)0b111_101_101);
        solo.Fake.Environment["PATH"] = $"{shim}:{AwsTestEndpoint.AgentPath}";
        BuildRun killed;
        try
        {
            await WriteImageAsync(fleet.V2);
            var build = Clone.BuildAsync(fleet.AwsEnvironment(), "DeployStaging", "--skip", "--staging-targets", solo.Id, "--bake-seconds", "0", "--allow-unattested");
            for (var i = 0; i < 1200 && !File.Exists(mark) && !build.IsCompleted; i++) await Task.Delay(100);
            Assert.True(File.Exists(mark), "the deploy never reached its switch");
            var (commandId, _, status) = fleet.Endpoint.Invocations.Last(i => i.InstanceId == solo.Id);
            Assert.Equal("InProgress", status);
            fleet.Endpoint.CancelCommand(commandId);
            killed = await build;
        }
        finally
        {
            solo.Fake.Environment.Remove("PATH");
        }

        Assert.StartsWith($"Deploy of 1.1.0 to staging failed on {solo.Id}", BuildAssert.TargetFailure(killed, "DeployStaging"));
        Assert.Contains("cancelled; the agent killed the script while it ran", BuildAssert.TargetFailure(killed, "DeployStaging"));
        var lockDir = Path.Combine(solo.Root, "envs", "staging", "lock");
        Assert.True(Directory.Exists(lockDir), "SIGKILL runs no trap: the killed deploy's lock stays");
        var left = await Containers(solo, all: false);
        Assert.Contains(left, c => c.EndsWith(fleet.V2.Digest, StringComparison.Ordinal)); // the new container that never served
        Assert.Equal("1.0.0", await fleet.VersionAsync(solo.StagingPort));

        var earlier = fleet.Endpoint.Invocations.Count;
        var redeploy = await BuildAsync("DeployStaging", "--skip", "--staging-targets", solo.Id);

        BuildAssert.Succeeded(redeploy);
        // A successful instance's output is not printed by the build; read what the instance said.
        var said = fleet.Endpoint.Invocations.Skip(earlier).Where(i => i.InstanceId == solo.Id)
            .SelectMany(i => fleet.Endpoint.Output(i.CommandId, solo.Id).Split('\n')).ToList();
        Assert.Contains(said, l => l.Contains("stale lock on staging from ") && l.Contains("is gone); taking it over"));
        Assert.Contains(said, l => l.Contains("an interrupted run left it running and it never served"));
        Assert.Equal("1.1.0", await fleet.VersionAsync(solo.StagingPort));
        var running = await Containers(solo, all: false);
        Assert.Equal([fleet.V2.Digest], running.Select(c => c.Split(' ')[1]));
        Assert.False(Directory.Exists(lockDir));
        Assert.False(Directory.Exists(Path.Combine(solo.Root, "proxy", "lock")));
        var current = File.ReadAllLines(Path.Combine(solo.Root, "envs", "staging", "current"));
        Assert.Contains($"digest={fleet.V2.Digest}", current);
        Assert.Contains($"container={running.Single().Split(' ')[0]}", current);
        var history = File.ReadAllLines(Path.Combine(solo.Root, "envs", "staging", "history.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // The killed run never committed, so it recorded nothing: 1.0.0, then the redeploy's 1.1.0 in the container that serves.
        Assert.Equal([("deploy", fleet.V1.Digest), ("deploy", fleet.V2.Digest)],
            history.Select(h => (h.GetProperty("action").GetString(), h.GetProperty("digest").GetString())));
        Assert.Contains($"container={history[^1].GetProperty("container").GetString()}", current);
    }
}
