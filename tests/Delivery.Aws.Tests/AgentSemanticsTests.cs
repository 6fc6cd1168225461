using Aws.TestEndpoint;
using Delivery.Core;

namespace Delivery.Aws.Tests;

/// <summary>
/// The AWS test endpoint runs a command as amazon-ssm-agent's runShellScript plugin does on Linux (its README cites
/// the agent source for each rule), and SsmFleet reads what that leaves: which timeout expired, and whether the
/// instance was running or never reached.
/// </summary>
public sealed class AgentSemanticsTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    static readonly FleetOptions Fast = new()
    {
        PollInterval = TimeSpan.FromMilliseconds(100), DeliveryTimeoutSeconds = 30, ExecutionTimeoutSeconds = 30, Preflight = false,
    };

    static int counter;

    FakeInstance NewInstance(string? role = null)
    {
        var instance = fixture.Endpoint.AddInstance($"i-0a9e{Interlocked.Increment(ref counter):D13}");
        if (role is not null) instance.Tags["Role"] = role;
        return instance;
    }

    async Task<(string CommandId, SsmInvocation Result)> RunRaw(SsmClient ssm, string instance, int executionTimeout, params string[] commands)
    {
        var commandId = await ssm.SendCommandAsync(new SsmCommand
        {
            Targets = SsmTargets.Instances(instance), Commands = commands, ExecutionTimeoutSeconds = executionTimeout, DeliveryTimeoutSeconds = 30,
        });
        return (commandId, await WaitTerminal(ssm, commandId, instance));
    }

    static async Task<SsmInvocation> WaitTerminal(SsmClient ssm, string commandId, string instance)
    {
        for (var i = 0; i < 1200; i++)
        {
            try
            {
                var invocation = await ssm.GetCommandInvocationAsync(commandId, instance);
                if (invocation.IsTerminal) return invocation;
            }
            catch (AwsException ex) when (ex.ErrorCode == "InvocationDoesNotExist") { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{commandId} on {instance} never ended");
    }

    [Fact]
    public async Task Commands_run_from_a_0700_script_file_through_sh_as_root_with_the_agent_s_bare_environment()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var instance = NewInstance();

        var (commandId, result) = await RunRaw(ssm, instance.Id, 30,
            "echo \"file=$(basename \"$0\") mode=$(stat -c %a \"$0\") shell=$(readlink /proc/$$/exe) uid=$(id -u)\"",
            "echo \"home=${HOME-unset} user=${USER-unset} term=${TERM-unset}\"",
            "echo \"instance=$AWS_SSM_INSTANCE_ID region=$AWS_SSM_REGION_NAME command=$SSM_COMMAND_ID\"");

        Assert.Equal("Success", result.Status);
        // sh is whatever /bin/sh links to (dash on Debian and Ubuntu, bash on Amazon Linux).
        var shell = Path.GetFileName(new FileInfo("/bin/sh").ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "/bin/sh");
        var lines = HostCommand.OutputLines(result.StandardOutputContent).ToList();
        Assert.Matches($"^file=_script.sh mode=700 shell=/.*/{shell} uid=0$", lines[0]);
        Assert.Equal([
            "home=unset user=unset term=unset",
            $"instance={instance.Id} region={fixture.Endpoint.Region} command={commandId}",
        ], lines.Skip(1));
    }

    [Fact]
    public async Task CancelCommand_kills_the_whole_process_group_with_no_TERM_first()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var instance = NewInstance();
        var dir = Directory.CreateTempSubdirectory("agent-cancel-").FullName;
        var commandId = await ssm.SendCommandAsync(new SsmCommand
        {
            Targets = SsmTargets.Instances(instance.Id), ExecutionTimeoutSeconds = 300, DeliveryTimeoutSeconds = 30,
            // The PID is written beside the file and renamed onto it, so the file never exists empty (a CI run read it
            // between the shell's truncate and its write).
            Commands = [$"trap 'echo term > {dir}/trapped' TERM EXIT", $"sleep 300 & echo $! > {dir}/child.new && mv {dir}/child.new {dir}/child", "wait"],
        });
        var childFile = Path.Combine(dir, "child");
        for (var i = 0; i < 600 && !File.Exists(childFile); i++) await Task.Delay(50);
        Assert.True(File.Exists(childFile), "the script never started its child");
        var child = int.Parse(File.ReadAllText(childFile).Trim());
        Assert.True(TestSupport.ProcessState.Running(child));

        await ssm.CancelCommandAsync(commandId);
        var result = await WaitTerminal(ssm, commandId, instance.Id);

        Assert.Equal(("Cancelled", 137), (result.Status, result.ResponseCode));
        Assert.True(result.ExecutionStarted);
        for (var i = 0; i < 50 && TestSupport.ProcessState.Running(child); i++) await Task.Delay(50);
        Assert.False(TestSupport.ProcessState.Running(child), "the script's background child survived the cancel");
        Assert.False(File.Exists(Path.Combine(dir, "trapped")), "a trap ran: the agent sends SIGKILL, which no trap sees");
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task The_execution_timeout_kills_the_process_group_and_the_fleet_says_it_was_running()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var instance = NewInstance();
        var log = new List<string>();

        var options = Fast with { ExecutionTimeoutSeconds = 5 };
        var runs = await new SsmFleet(ssm, SsmTargets.Instances(instance.Id), options, log.Add)
            .RunAsync("trap 'echo trapped' TERM EXIT\nsleep 120", "timeout test");

        var run = Assert.Single(runs);
        Assert.Equal(("TimedOut", "ExecutionTimedOut", 137), (run.Status, run.StatusDetails, run.ExitCode));
        Assert.True(run.Reached);
        Assert.Equal("execution timeout (executionTimeout 5 s) reached; the agent killed the script while it ran", run.Reason(options));
        Assert.DoesNotContain(run.Lines, l => l.Contains("trapped"));
    }

    [Fact]
    public async Task An_offline_instance_stays_Pending_until_the_command_expires_and_does_not_count_against_MaxErrors()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var role = "agent-offline";
        var (first, offline, third) = (NewInstance(role), NewInstance(role), NewInstance(role));
        offline.Online = false;
        var targets = SsmTargets.Parse($"tag:Role={role}", "targets");

        var info = await ssm.DescribeInstanceInformationAsync(targets);
        Assert.Equal([(first.Id, "Online"), (offline.Id, "ConnectionLost"), (third.Id, "Online")], info.Select(i => (i.InstanceId, i.PingStatus)));

        var options = Fast with { ExecutionTimeoutSeconds = 5, DeliveryTimeoutSeconds = 30, MaxConcurrency = "1", MaxErrors = "0" };
        var started = DateTimeOffset.UtcNow;
        var runs = await new SsmFleet(ssm, targets, options).RunAsync("echo ran on $AWS_SSM_INSTANCE_ID", "offline test");
        var took = DateTimeOffset.UtcNow - started;

        Assert.Equal([(first.Id, "Success"), (offline.Id, "TimedOut"), (third.Id, "Success")], runs.Select(r => (r.InstanceId, r.Status)));
        Assert.True(took >= TimeSpan.FromSeconds(35), $"the command ended after {took.TotalSeconds:0.0} s, before send + TimeoutSeconds + executionTimeout");
        var lost = runs[1];
        Assert.False(lost.Reached);
        Assert.Equal("the command expired 35 s after it was sent (TimeoutSeconds 30 s + executionTimeout 5 s) before the instance took it: never reached (offline, or the roll got to it too late)",
            lost.Reason(options));
        var commandId = fixture.Endpoint.Invocations.Last(i => i.InstanceId == offline.Id).CommandId;
        Assert.Equal("TimedOut", await ssm.GetCommandStatusAsync(commandId));
    }

    [Fact]
    public async Task The_pre_flight_stops_a_command_to_an_offline_or_unmanaged_instance_before_anything_runs()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var (online, offline, unmanaged) = (NewInstance(), NewInstance(), NewInstance());
        offline.Online = false;
        unmanaged.Managed = false;
        var earlier = fixture.Endpoint.Invocations.Count;
        var targets = SsmTargets.Instances(online.Id, offline.Id, unmanaged.Id);

        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            new SsmFleet(ssm, targets, Fast with { Preflight = true }).RunAsync("echo never", "Deploy of 1.0.0 to staging"));

        Assert.Equal($"Deploy of 1.0.0 to staging: nothing was sent; 2 of 3 instance(s) cannot take a command: {offline.Id} (ConnectionLost), " +
                     $"{unmanaged.Id} (not managed: no SSM agent registered) (bring them back, or pass --skip-offline to roll the others)", error.Message);
        Assert.Equal(earlier, fixture.Endpoint.Invocations.Count);

        var log = new List<string>();
        var fleet = new SsmFleet(ssm, targets, Fast with { Preflight = true, SkipOffline = true }, log.Add);
        var runs = await fleet.RunAsync("echo ran", "Deploy of 1.0.0 to staging");

        Assert.Equal([(online.Id, "Success")], runs.Select(r => (r.InstanceId, r.Status)));
        Assert.Equal([(offline.Id, "ConnectionLost"), (unmanaged.Id, "not managed: no SSM agent registered")], fleet.Skipped);
        Assert.Contains($"Deploy of 1.0.0 to staging: skipping offline instance(s) {offline.Id} (ConnectionLost), {unmanaged.Id} (not managed: no SSM agent registered)", log);
    }

    [Fact]
    public async Task A_roll_of_six_at_one_at_a_time_outlives_fixed_timeouts_but_fits_lifetimes_sized_to_the_fleet()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var fixedRole = "agent-roll-fixed";
        var sizedRole = "agent-roll-sized";
        for (var i = 0; i < 6; i++) { NewInstance(fixedRole); NewInstance(sizedRole); }
        const string script = "sleep 7; echo done";
        var rolling = Fast with { MaxConcurrency = "1", MaxErrors = "0", Preflight = true };

        // Fixed: TimeoutSeconds 30, executionTimeout 10. The sixth instance cannot start before 5 x 7 = 35 s, after the
        // last start SSM allows, so it stays Pending until the command expires at 40 s. How many start in time before
        // it depends on the machine's load (each start adds a process spawn), so the test pins the shape: the ones
        // that started succeeded, in order, and every later one timed out without being reached.
        var fixedRuns = await new SsmFleet(ssm, SsmTargets.Parse($"tag:Role={fixedRole}", "t"), rolling with { DeliveryTimeoutSeconds = 30, ExecutionTimeoutSeconds = 10 })
            .RunAsync(script, "fixed");
        var started = fixedRuns.TakeWhile(r => r.Status == "Success").Count();
        Assert.InRange(started, 3, 5);
        Assert.All(fixedRuns.Take(started), r => Assert.True(r.Reached));
        Assert.All(fixedRuns.Skip(started), r => Assert.Equal(("TimedOut", false), (r.Status, r.Reached)));

        var log = new List<string>();
        var fleet = new SsmFleet(ssm, SsmTargets.Parse($"tag:Role={sizedRole}", "t"), rolling with { PerInstanceBudget = TimeSpan.FromSeconds(10) }, log.Add);
        var sizedRuns = await fleet.RunAsync(script, "sized");

        Assert.All(sizedRuns, r => Assert.Equal("Success", r.Status));
        Assert.Equal(6, sizedRuns.Count);
        var expected = FleetLifetimes.For(6, 1, TimeSpan.FromSeconds(10));
        Assert.Equal(expected.ToString(), fleet.Lifetimes!.ToString());
        Assert.Contains($"sized: {expected}", log);
    }
    /// <summary>A deploy's lifetimes are sized once, by the site's fit check before the pull check, and the roll sends
    /// those: here sized for the three targets the check counted, while the roll (--skip-offline) reaches the two online.</summary>
    [Fact]
    public async Task The_roll_sends_the_lifetimes_the_fit_check_sized()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var (first, second, offline) = (NewInstance(), NewInstance(), NewInstance());
        offline.Online = false;
        var log = new List<string>();
        var site = new SsmFleetSite(ssm, SsmTargets.Instances(first.Id, second.Id, offline.Id),
            Fast with { Preflight = true, SkipOffline = true, MaxConcurrency = "1", MaxErrors = "0" }, "webapp", log.Add);
        var needs = new Delivery.Hosts.Sites.ScriptTime(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2));

        var fit = await site.CheckRollFitsAsync(needs, CancellationToken.None);
        var runs = await site.RollAsync("echo ran", "Deploy of 1.0.0 to staging", "nothing was deployed", fit, null, CancellationToken.None);

        Assert.Equal([(first.Id, true), (second.Id, true), (offline.Id, false)], runs.Select(r => (r.Host, r.Succeeded)));
        var sized = FleetLifetimes.For(3, 1, FleetLifetimes.PerInstance(needs.Steps, TimeSpan.Zero), lockWait: needs.LockWait);
        Assert.Equal([$"Deploy of 1.0.0 to staging: {sized}"], log.Where(l => l.Contains("TimeoutSeconds", StringComparison.Ordinal) || l.Contains(sized.ToString(), StringComparison.Ordinal)));
    }
}
