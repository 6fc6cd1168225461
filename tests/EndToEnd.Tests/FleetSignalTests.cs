using System.Diagnostics;
using System.Text.Json;
using Delivery.Hosts;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// ./build.sh stopped as GitHub's runner stops a cancelled or timed-out step (actions/runner ProcessInvoker: SIGINT,
/// then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that) in the middle of a rolling fleet deploy through the AWS
/// test endpoint: the instances that ran the deploy go back to the previous release, nothing is left behind, and
/// the build says where each instance is.
/// </summary>
[Collection(SignalCloneCollection.Name)]
public sealed class FleetSignalTests(CloneFixture clone, FleetFixture fleet) : CloneTests(clone), IClassFixture<FleetFixture>
{
    static readonly TimeSpan SigtermAfter = TimeSpan.FromSeconds(7.5);
    static readonly TimeSpan SigkillAfter = TimeSpan.FromSeconds(2.5);

    // The fleet's images are pushed by the fixture, without provenance; no bake (only the metered image serves metrics).
    static readonly string[] Common = ["--skip", "--bake-seconds", "0", "--allow-unattested", "--max-concurrency", "1"];

    static async Task<List<string>> RunningContainers(FleetFixture.Instance instance)
    {
        var docker = Tools.Require("docker", "docker.io");
        var ps = await Tools.Run(docker, "ps", "--format", "{{.Label \"webapp.digest\"}}", "--filter", $"label=webapp.app={instance.App}", "--filter", "label=webapp.environment=staging");
        return ps.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    static string Field(FleetFixture.Instance instance, string file, string name) =>
        File.ReadAllLines(Path.Combine(instance.Root, "envs", "staging", file)).First(l => l.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    [Fact]
    public async Task SIGINT_mid_roll_switches_back_the_switched_instances_before_SIGTERM_and_leaves_no_lock_or_stray_container()
    {
        var instances = fleet.Instances.Take(3).ToList();
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await Clone.BuildAsync(fleet.AwsEnvironment(), ["DeployStaging", "--staging-targets", fleet.Tag, .. Common]));
        foreach (var i in instances) Assert.Equal("1.0.0", await fleet.VersionAsync(i.StagingPort));

        await WriteImageAsync(fleet.V2);
        var switchedFirst = "";
        var (exitCode, exitedAfter, signals, text) = await InterruptAsync(["DeployStaging", "--staging-targets", fleet.Tag, .. Common], id => switchedFirst = id);
        Console.WriteLine($"SIGINT after {switchedFirst} switched: the build exited {exitedAfter.TotalSeconds:0.00} s later (exit {exitCode}, signals sent: {signals})");

        Assert.True(signals == "SIGINT", $"the build needed {signals} (exited {exitedAfter.TotalSeconds:0.0} s after SIGINT):\n{text}");
        Assert.NotEqual(0, exitCode);
        Assert.DoesNotContain("   at ", text);
        // On a loaded machine a switch-back may still run when the build must exit (it says so, and leaves it running).
        for (var n = 0; n < 1200 && fleet.Endpoint.Invocations.Any(x => instances.Any(i => i.Id == x.InstanceId) && x.Status is "Pending" or "InProgress" or "Cancelling"); n++)
            await Task.Delay(100);
        // Every instance is back on (or still on) 1.0.0, served by 1.0.0's container only, with no lock left.
        foreach (var i in instances)
        {
            Assert.Equal("1.0.0", await fleet.VersionAsync(i.StagingPort));
            Assert.True((await RunningContainers(i)).SequenceEqual([fleet.V1.Digest]), $"{i.Id} runs {string.Join(", ", await RunningContainers(i))}:\n{text}");
            Assert.Equal(fleet.V1.Digest, Field(i, "current", "digest"));
            Assert.False(Directory.Exists(Path.Combine(i.Root, "envs", "staging", "lock")), $"{i.Id} keeps its deploy lock:\n{text}");
            Assert.False(Directory.Exists(Path.Combine(i.Root, "proxy", "lock")), $"{i.Id} keeps its proxy lock:\n{text}");
        }
        // One line per instance says what happened; the first one switched, then was switched back (its history says so too).
        var first = instances.Single(i => i.Id == switchedFirst);
        Assert.Contains(text.Split('\n'), l => l == $"{first.Id}: deployed 1.1.0 before the cancel; switched back to 1.0.0"
            || System.Text.RegularExpressions.Regex.IsMatch(l, $"^{first.Id}: deployed 1\\.1\\.0 before the cancel; switch-back (NOT finished before SIGTERM would come \\(SSM command [0-9a-f-]+ keeps running it\\); until it ends it serves 1\\.1\\.0, which passed its health gate|finished as the time ran out, before its result was read \\(SSM command [0-9a-f-]+\\); check with \\./build\\.sh Status)$"));
        var history = File.ReadAllLines(Path.Combine(first.Root, "envs", "staging", "history.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([("deploy", fleet.V1.Digest), ("deploy", fleet.V2.Digest), ("rollback", fleet.V1.Digest)],
            history.TakeLast(3).Select(h => (h.GetProperty("action").GetString(), h.GetProperty("digest").GetString())));
        foreach (var other in instances.Where(i => i != first))
            Assert.Contains(text.Split('\n'), l => l.StartsWith($"{other.Id}: ", StringComparison.Ordinal)
                && (l == $"{other.Id}: not reached before the cancel; untouched"
                    // It finished its deploy between the build's last poll and the signal.
                    || l == $"{other.Id}: deployed 1.1.0 before the cancel; switched back to 1.0.0"
                    || l.StartsWith($"{other.Id}: cancelled while running (", StringComparison.Ordinal) && (l.EndsWith("; its deploy never switched, so nothing to switch back; serves 1.0.0", StringComparison.Ordinal)
                        || l.EndsWith("; switched back to 1.0.0", StringComparison.Ordinal) || l.Contains("; switch-back NOT finished before SIGTERM would come (") || l.Contains("; switch-back finished as the time ran out"))));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("Target DeployStaging aborted: Deploy of 1.1.0 to staging was cancelled; ", StringComparison.Ordinal) && l.Contains(first.Id));
        // The roll never finished, so the release record still names 1.0.0 (the switch-back restores what it says).
        Assert.DoesNotContain("Recorded 1.1.0", text);
    }

    [Fact]
    public async Task A_switch_back_that_cannot_finish_before_SIGTERM_keeps_running_on_its_instance_and_the_build_says_so()
    {
        while (fleet.Instances.Count < 6) fleet.Instances.Add(fleet.AddInstance(fleet.Instances.Count + 1));
        var pair = fleet.Instances.Skip(4).Take(2).ToList();
        var targets = string.Join(",", pair.Select(i => i.Id));
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await Clone.BuildAsync(fleet.AwsEnvironment(), ["DeployStaging", "--staging-targets", targets, .. Common]));
        // On the first instance, once it has switched, every container start waits for the test to open the gate (at most
        // 2 minutes): the switch-back cannot finish within the 7.5 s, and it still serves 1.1.0 when the test looks, however
        // slowly a loaded machine gets there (a fixed 12 s start left the look 4.5 s after the build's latest exit).
        var shim = Directory.CreateTempSubdirectory("e2e-docker-shim-").FullName;
        var gate = Path.Combine(shim, "open");
        File.WriteAllText(Path.Combine(shim, "docker"), $$"""
            #!/bin/sh
            case "$1" in run) n=0; while [ ! -e '{{gate}}' ] && [ "$n" -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done ;; esac
            exec '{{Tools.Require("docker", "docker.io")}}' "$@"
            """);
        File.SetUnixFileMode(Path.Combine(shim, "docker"), (UnixFileMode)0b111_101_101);
        await WriteImageAsync(fleet.V2);
        FleetFixture.Instance? first = null;
        try
        {
            var (exitCode, exitedAfter, signals, text) = await InterruptAsync(["DeployStaging", "--staging-targets", targets, .. Common], id =>
            {
                first = pair.Single(i => i.Id == id);
                first.Fake.Environment["PATH"] = $"{shim}:{Aws.TestEndpoint.AwsTestEndpoint.AgentPath}";
            });
            Console.WriteLine($"SIGINT after {first!.Id} switched, its switch-back slowed: the build exited {exitedAfter.TotalSeconds:0.00} s later (exit {exitCode}, signals sent: {signals})");

            Assert.True(signals == "SIGINT", $"the build needed {signals} (exited {exitedAfter.TotalSeconds:0.0} s after SIGINT):\n{text}");
            Assert.NotEqual(0, exitCode);
            var line = text.Split('\n').SingleOrDefault(l => l.StartsWith($"{first.Id}: ", StringComparison.Ordinal));
            Assert.True(line is not null && System.Text.RegularExpressions.Regex.IsMatch(line,
                $"^{first.Id}: deployed 1\\.1\\.0 before the cancel; switch-back NOT finished before SIGTERM would come \\(SSM command [0-9a-f-]+ keeps running it\\); until it ends it serves 1\\.1\\.0, which passed its health gate$"), text);
            Assert.Equal("1.1.0", await fleet.VersionAsync(first.StagingPort));
            Assert.Equal("InProgress", fleet.Endpoint.Invocations.Last(x => x.InstanceId == first.Id).Status);
            File.WriteAllText(gate, "");
            // The switch-back was left running, not cancelled: it ends on its own, on 1.0.0, and releases its lock.
            for (var i = 0; i < 1200 && fleet.Endpoint.Invocations.Last(x => x.InstanceId == first.Id).Status is not ("Success" or "Failed" or "Cancelled" or "TimedOut"); i++)
                await Task.Delay(100);
            Assert.Equal("Success", fleet.Endpoint.Invocations.Last(x => x.InstanceId == first.Id).Status);
            Assert.Equal("1.0.0", await fleet.VersionAsync(first.StagingPort));
            Assert.False(Directory.Exists(Path.Combine(first.Root, "envs", "staging", "lock")));
        }
        finally
        {
            File.WriteAllText(gate, "");
            first?.Fake.Environment.Remove("PATH");
        }
    }

    /// <summary>Runs ./build.sh, calls <paramref name="beforeSignal"/> with the first instance whose deploy finished, then
    /// stops the build as GitHub's runner does: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that.</summary>
    async Task<(int ExitCode, TimeSpan ExitedAfter, string Signals, string Text)> InterruptAsync(string[] arguments, Action<string> beforeSignal)
    {
        var psi = new ProcessStartInfo(Path.Combine(Root, "build.sh"))
        {
            WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in BuildScript.CleanEnvironment(fleet.AwsEnvironment()))
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        var lines = new List<string>();
        var firstSwitched = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var build = new Process { StartInfo = psi };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (lines) lines.Add(line);
            if (System.Text.RegularExpressions.Regex.Match(line, @"^  (i-\S+)  Success   exit 0") is { Success: true } m) firstSwitched.TrySetResult(m.Groups[1].Value);
        }
        build.OutputDataReceived += (_, e) => OnLine(e.Data);
        build.ErrorDataReceived += (_, e) => OnLine(e.Data);
        build.Start();
        build.BeginOutputReadLine();
        build.BeginErrorReadLine();
        string Output() { lock (lines) return string.Join('\n', lines); }
        if (await Task.WhenAny(firstSwitched.Task, build.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(4))) != firstSwitched.Task)
            throw new Xunit.Sdk.XunitException($"no instance finished its deploy before the build ended or 4 minutes passed:\n{Output()}");
        beforeSignal(await firstSwitched.Task);
        Assert.Equal(0, kill(build.Id, 2));
        var signalled = Stopwatch.StartNew();
        var signals = "SIGINT";
        if (!await Exited(build, SigtermAfter)) { kill(build.Id, 15); signals += ", SIGTERM"; }
        if (!await Exited(build, SigkillAfter)) { build.Kill(entireProcessTree: true); signals += ", SIGKILL"; }
        await build.WaitForExitAsync();
        var exitedAfter = signalled.Elapsed;
        var text = Output();
        Console.WriteLine(text);
        return (build.ExitCode, exitedAfter, signals, text);
    }

    [Fact]
    public async Task A_roll_of_six_instances_one_at_a_time_finishes_inside_lifetimes_sized_to_the_fleet()
    {
        while (fleet.Instances.Count < 6) fleet.Instances.Add(fleet.AddInstance(fleet.Instances.Count + 1));
        var six = fleet.Instances.Take(6).ToList();
        await WriteImageAsync(fleet.V2);
        var health = TimeSpan.FromSeconds(10);

        var watch = Stopwatch.StartNew();
        var run = await Clone.BuildAsync(fleet.AwsEnvironment(), ["DeployStaging", "--staging-targets", string.Join(",", six.Select(i => i.Id)), "--health-timeout", "10s", .. Common]);
        var rollTime = watch.Elapsed;

        BuildAssert.Succeeded(run);
        // The lifetimes follow from the staging deploy's own waits (10 s health gate, no bake, drain, stop), the
        // fleet's margin and six waves; the build says which it sent.
        var needs = Deployer.ScriptNeeds(DeployEnvironment.Staging with { HealthTimeout = health }, new DeployOptions());
        var lifetimes = Delivery.Aws.FleetLifetimes.For(6, 1, Delivery.Aws.FleetLifetimes.PerInstance(needs.Steps, TimeSpan.Zero), lockWait: needs.LockWait);
        Assert.Contains($"Deploy of 1.1.0 to staging: {lifetimes}", run.OutputLines);
        Console.WriteLine($"6 instances, 1 at a time: {lifetimes}; the build took {rollTime.TotalSeconds:0.0} s");
        foreach (var i in six) Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
        var commandId = fleet.Endpoint.Invocations.Last(x => x.InstanceId == six[0].Id).CommandId;
        Assert.Equal(6, fleet.Endpoint.Invocations.Count(x => x.CommandId == commandId && x.Status == "Success"));
        Assert.Equal(1, fleet.Endpoint.MaxParallelInvocations(commandId));
        Assert.Contains(run.OutputLines, l => l.StartsWith("Recorded 1.1.0 in Parameter Store /webapp/staging/release (version ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_roll_that_cannot_fit_its_time_limit_fails_before_sending_naming_both_figures_and_the_parameter_to_change()
    {
        while (fleet.Instances.Count < 6) fleet.Instances.Add(fleet.AddInstance(fleet.Instances.Count + 1));
        var six = fleet.Instances.Take(6).ToList();
        await WriteImageAsync(fleet.V2);
        var before = fleet.Endpoint.Invocations.Count;

        var run = await Clone.BuildAsync(fleet.AwsEnvironment(), ["DeployStaging", "--staging-targets", string.Join(",", six.Select(i => i.Id)), "--fleet-time-limit", "20m", .. Common]);

        var needs = Deployer.ScriptNeeds(DeployEnvironment.Staging, new DeployOptions());
        var error = Assert.Throws<Delivery.Core.DeliveryException>(() =>
            Delivery.Aws.FleetLifetimes.For(6, 1, Delivery.Aws.FleetLifetimes.PerInstance(needs.Steps, TimeSpan.Zero), TimeSpan.FromMinutes(20), needs.LockWait));
        Assert.Equal(error.Message, BuildAssert.TargetFailure(run, "DeployStaging"));
        Assert.Contains("over the 20 min it must finish within (--fleet-time-limit); --max-concurrency ", error.Message);
        Assert.Equal(before, fleet.Endpoint.Invocations.Count);
    }

    static async Task<bool> Exited(Process process, TimeSpan within)
    {
        using var wait = new CancellationTokenSource(within);
        try { await process.WaitForExitAsync(wait.Token); return true; }
        catch (OperationCanceledException) { return false; }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int signal);
}
