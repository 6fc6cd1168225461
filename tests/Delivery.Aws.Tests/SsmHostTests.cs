using System.Text.Json;
using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Scripts;

namespace Delivery.Aws.Tests;

public sealed class SsmHostTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    [Fact]
    public async Task Runs_the_script_and_returns_its_exit_code_with_stdout_then_stderr()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var host = fixture.Host(ssm);
        var seen = new List<string>();

        var result = await host.RunAsync("""
            set -euo pipefail
            echo "one"
            echo "to stderr" >&2
            printf 'two %s\n' "$((40 + 2))"
            exit 3
            """, seen.Add);

        Assert.Equal(3, result.ExitCode);
        // The wrapper keeps stdout and stderr in the order they were written (SSM would split them).
        Assert.Equal(["one", "to stderr", "two 42"], result.Lines);
        Assert.Equal(result.Lines, seen);
        Assert.Equal(EndpointFixture.Instance, host.Name);
    }

    [Fact]
    public async Task A_successful_script_returns_zero()
    {
        using var ssm = new SsmClient(fixture.Settings());

        var result = await fixture.Host(ssm).RunAsync("echo ok");

        Assert.True(result.Succeeded);
        Assert.Equal(["ok"], result.Lines);
    }

    [Fact]
    public async Task The_script_runs_with_bash_and_cannot_read_its_own_text_from_stdin()
    {
        using var ssm = new SsmClient(fixture.Settings());

        var result = await fixture.Host(ssm).RunAsync("""
            if read -r line; then echo "read: $line"; else echo "stdin empty"; fi
            arr=(a b c); echo "bash array ${#arr[@]}"
            echo 'literal $HOME `not run`'
            """);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["stdin empty", "bash array 3", "literal $HOME `not run`"], result.Lines);
    }

    [Fact]
    public async Task Sends_the_script_as_one_AWS_RunShellScript_command_after_waiting_for_the_invocation_to_appear()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var before = fixture.Endpoint.Received.Count;

        await fixture.Host(ssm).RunAsync("echo a\necho b\n");

        var calls = fixture.Endpoint.Received.Skip(before).ToList();
        Assert.Equal(1, calls.Count(c => c == "AmazonSSM.SendCommand"));
        // The endpoint answers InvocationDoesNotExist to the first polls of a new command, as SSM may.
        Assert.True(calls.Count(c => c == "AmazonSSM.GetCommandInvocation") > fixture.Endpoint.InvocationNotVisibleFor);
    }

    [Fact]
    public async Task Output_longer_than_SSM_keeps_is_cut_and_says_so()
    {
        using var ssm = new SsmClient(fixture.Settings());

        var result = await fixture.Host(ssm).RunAsync("for i in $(seq 1 3000); do printf '%09d\\n' \"$i\"; done");

        // 30,000 characters would lose the end at SSM's 24,000: the wrapper passes on the last 40 lines instead.
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("webapp-deploy: [output shortened to its last 40 lines and its data lines; the full log is ", result.Lines[0]);
        Assert.Equal(Enumerable.Range(2961, 40).Select(i => i.ToString("D9")), result.Lines.Skip(1));
        var kept = System.Text.RegularExpressions.Regex.Match(result.Lines[0], "the full log is (?<path>\\S+) on ").Groups["path"].Value;
        Assert.Equal(30_000, new FileInfo(kept).Length);
        File.Delete(kept);
    }

    [Fact]
    public async Task An_unknown_instance_fails_in_one_line_naming_it()
    {
        using var ssm = new SsmClient(fixture.Settings());

        var error = await Assert.ThrowsAsync<AwsException>(() => fixture.Host(ssm, "i-0000000000000dead").RunAsync("echo never"));

        Assert.Equal("SSM SendCommand failed: InvalidInstanceId: Instances [i-0000000000000dead] not in a valid state for account 123456789012", error.Message);
        Assert.IsAssignableFrom<DeliveryException>(error);
    }

    [Fact]
    public async Task A_script_over_its_execution_timeout_fails_naming_the_instance_and_command()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var timed = new SsmHost(ssm, EndpointFixture.Instance) { PollInterval = TimeSpan.FromMilliseconds(100), ExecutionTimeoutSeconds = 5 };

        var earlier = fixture.Endpoint.Invocations.Select(i => i.CommandId).ToHashSet();

        var error = await Assert.ThrowsAsync<DeliveryException>(() => timed.RunAsync("sleep 120"));

        var (commandId, _, status) = fixture.Endpoint.Invocations.Single(i => !earlier.Contains(i.CommandId));
        Assert.Equal("TimedOut", status);
        Assert.Equal($"The SSM command on {EndpointFixture.Instance} (command {commandId}) timed out: ExecutionTimedOut", error.Message);
    }

    [Fact]
    public async Task A_command_that_never_shows_up_is_cancelled_and_reported()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var host = new SsmHost(ssm, EndpointFixture.Instance) { PollInterval = TimeSpan.FromMilliseconds(50), InvocationNotFoundRetries = 2 };
        fixture.Endpoint.InvocationNotVisibleFor = 1000;
        try
        {
            var error = await Assert.ThrowsAsync<DeliveryException>(() => host.RunAsync("sleep 600"));

            var invocation = fixture.Endpoint.Invocations.Single(i => error.Message.Contains(i.CommandId));
            Assert.Equal(
                $"The SSM command on {EndpointFixture.Instance} (command {invocation.CommandId}) was still unknown to GetCommandInvocation after 3 polls; it was cancelled",
                error.Message);
            await WaitUntil(() => fixture.Endpoint.Invocations.Single(i => i.CommandId == invocation.CommandId).Status == "Cancelled");
        }
        finally
        {
            fixture.Endpoint.InvocationNotVisibleFor = 2;
        }
    }

    [Fact]
    public async Task Cancelling_stops_the_remote_command()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var dir = Directory.CreateTempSubdirectory("ssm-cancel-");
        var started = Path.Combine(dir.FullName, "started");
        var finished = Path.Combine(dir.FullName, "finished");
        using var cts = new CancellationTokenSource();
        var earlier = fixture.Endpoint.Invocations.Select(i => i.CommandId).ToHashSet();

        var run = fixture.Host(ssm).RunAsync($"echo $$ > '{started}'\nsleep 600\ntouch '{finished}'\n", cancellationToken: cts.Token);
        await WaitUntil(() => File.Exists(started) && File.ReadAllText(started).EndsWith('\n') || run.IsCompleted);
        Assert.False(run.IsCompleted);
        var pid = int.Parse(File.ReadAllText(started).Trim());
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.Contains("AmazonSSM.CancelCommand", fixture.Endpoint.Received);
        // SSM reports Cancelling until the agent has stopped the script, then Cancelled.
        await WaitUntil(() => fixture.Endpoint.Invocations.Single(i => !earlier.Contains(i.CommandId)).Status == "Cancelled");
        Assert.Equal(EndpointFixture.Instance, fixture.Endpoint.Invocations.Single(i => !earlier.Contains(i.CommandId)).InstanceId);
        await WaitUntil(() => !TestSupport.ProcessState.Running(pid));
        Assert.False(File.Exists(finished));
        dir.Delete(recursive: true);
    }

    [Fact]
    public async Task Runs_a_rendered_host_status_script_against_a_temporary_state_root()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var stateRoot = Directory.CreateTempSubdirectory("ssm-state-");
        try
        {
            var script = HostScripts.Status(new HostSettings { StateRoot = stateRoot.FullName }, DeployEnvironment.Staging);

            var result = await fixture.Host(ssm).RunAsync(script);

            Assert.True(result.Succeeded, result.Tail());
            var data = result.Data.Select(d => JsonDocument.Parse(d).RootElement).ToList();
            var current = data.Single(d => d.GetProperty("kind").GetString() == "current");
            Assert.Equal("staging", current.GetProperty("environment").GetString());
            Assert.False(current.GetProperty("deployed").GetBoolean());
            Assert.Equal("", data.Single(d => d.GetProperty("kind").GetString() == "lock").GetProperty("holder").GetString());
        }
        finally
        {
            stateRoot.Delete(recursive: true);
        }
    }

    /// <summary>Waits for something the test caused; a safety bound only, so a broken endpoint cannot hang the run.</summary>
    static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 1200 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition(), "the condition did not become true");
    }
}
