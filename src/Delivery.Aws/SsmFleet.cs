using System.Diagnostics;
using Delivery.Core;
using Delivery.Hosts;

namespace Delivery.Aws;

/// <summary>How a command goes out to a fleet, and how long each part may take.</summary>
public sealed record FleetOptions
{
    /// <summary>SendCommand MaxConcurrency: "1" rolls one instance at a time.</summary>
    public string MaxConcurrency { get; init; } = "1";

    /// <summary>SendCommand MaxErrors: "0" stops sending to more instances after the first failure.</summary>
    public string MaxErrors { get; init; } = "0";

    /// <summary>The agent stops a script that runs longer (AWS-RunShellScript executionTimeout).</summary>
    public int ExecutionTimeoutSeconds { get; init; } = 900;

    /// <summary>SSM gives up on an instance that has not taken the command by then (SendCommand TimeoutSeconds, ≥ 30).</summary>
    public int DeliveryTimeoutSeconds { get; init; } = 600;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public string? OutputS3BucketName { get; init; }
    public string? CloudWatchLogGroupName { get; init; }
    public string Comment { get; init; } = "WebApp delivery";

    /// <summary>The build's own deadline for the whole command, past SSM's two timeouts.</summary>
    public TimeSpan WaitDeadline(int instances) =>
        TimeSpan.FromSeconds(DeliveryTimeoutSeconds + (long)ExecutionTimeoutSeconds * Math.Max(1, instances) + 60);

    public void Validate()
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(MaxConcurrency, "^([1-9][0-9]{0,5}|([1-9][0-9]?|100)%)$"))
            throw new DeliveryException($"Max concurrency '{MaxConcurrency}' must be a number of instances (1, 2, …) or a percentage (25%)");
        if (!System.Text.RegularExpressions.Regex.IsMatch(MaxErrors, "^([0-9]{1,6}|([0-9]{1,2}|100)%)$"))
            throw new DeliveryException($"Max errors '{MaxErrors}' must be a number of instances (0, 1, …) or a percentage (10%)");
        if (ExecutionTimeoutSeconds is < 1 or > 172_800)
            throw new DeliveryException($"The execution timeout must be 1 to 172800 seconds, not {ExecutionTimeoutSeconds}");
        if (DeliveryTimeoutSeconds is < 30 or > 2_592_000)
            throw new DeliveryException($"The delivery timeout (SendCommand TimeoutSeconds) must be 30 to 2592000 seconds, not {DeliveryTimeoutSeconds}");
    }
}

/// <summary>One instance's part of a fleet command.</summary>
public sealed record InstanceRun(string InstanceId, string Status, string StatusDetails, int ExitCode, IReadOnlyList<string> Lines, HostSummary? Summary, TimeSpan Elapsed)
{
    public bool Succeeded => Status == "Success" && ExitCode == 0;

    /// <summary>False when SSM never ran the script there (the roll stopped first, or it was cancelled while pending).</summary>
    public bool Reached => !(Status == "Cancelled" && ExitCode < 0 && Lines.Count == 0);

    public HostResult Result => new(Succeeded ? 0 : Math.Max(1, ExitCode), Lines);

    /// <summary>Why it failed, in a few words: the script's own reason, or SSM's status.</summary>
    public string Reason(FleetOptions options) => Status switch
    {
        "Success" when ExitCode == 0 => "ok",
        "TimedOut" when StatusDetails.Contains("Delivery", StringComparison.OrdinalIgnoreCase) =>
            $"delivery timeout (SendCommand TimeoutSeconds {options.DeliveryTimeoutSeconds} s): the instance never took the command",
        "TimedOut" => $"execution timeout (executionTimeout {options.ExecutionTimeoutSeconds} s) reached" +
                      (Summary is { Error.Length: > 0 } s ? $"; summary: {s.Error}" : Result.Tail(2) is { Length: > 0 } t ? $"; last output: {t}" : ""),
        "Cancelled" => Reached ? "cancelled while running" : "not reached",
        _ when Summary is { Error.Length: > 0 } s => s.Error,
        _ when ExitCode < 0 => $"SSM status {Status} ({StatusDetails}) before the script ran",
        _ => $"exit code {ExitCode}: {Result.Tail(3)}",
    };
}

/// <summary>
/// Sends one host script to a fleet through SSM Run Command (Targets, MaxConcurrency, MaxErrors: SSM's own rate
/// control, no orchestrator of ours) and follows it with ListCommandInvocations, printing one line per instance as it
/// finishes. Ctrl-C cancels the command on every target.
/// </summary>
public sealed class SsmFleet(SsmClient ssm, SsmTargets targets, FleetOptions options, Action<string>? log = null)
{
    public SsmTargets Targets => targets;

    public async Task<IReadOnlyList<InstanceRun>> RunAsync(string script, string what, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var commandId = await ssm.SendCommandAsync(new SsmCommand
        {
            Targets = targets,
            Commands = [HostCommand.Wrap(script)],
            ExecutionTimeoutSeconds = options.ExecutionTimeoutSeconds,
            DeliveryTimeoutSeconds = options.DeliveryTimeoutSeconds,
            MaxConcurrency = options.MaxConcurrency,
            MaxErrors = options.MaxErrors,
            OutputS3BucketName = options.OutputS3BucketName,
            CloudWatchLogGroupName = options.CloudWatchLogGroupName,
            Comment = $"{options.Comment}: {what}",
        }, cancellationToken);
        log?.Invoke($"{what}: SSM command {commandId} to {targets} (max concurrency {options.MaxConcurrency}, max errors {options.MaxErrors})");

        using var deadline = new CancellationTokenSource(options.WaitDeadline(targets.InstanceIds?.Count ?? 10));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await FollowAsync(commandId, linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            await CancelAsync(commandId);
            throw new DeliveryException($"{what}: SSM command {commandId} gave no result within the build's wait deadline of {options.WaitDeadline(targets.InstanceIds?.Count ?? 10).TotalSeconds:0} s (delivery timeout + execution timeout); it was cancelled");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            log?.Invoke($"{what}: cancelling SSM command {commandId} on every target");
            await CancelAsync(commandId);
            throw;
        }
    }

    async Task<IReadOnlyList<InstanceRun>> FollowAsync(string commandId, CancellationToken cancellationToken)
    {
        var done = new Dictionary<string, InstanceRun>(StringComparer.Ordinal);
        var started = Stopwatch.StartNew();
        while (true)
        {
            var invocations = await ssm.ListCommandInvocationsAsync(commandId, cancellationToken);
            foreach (var invocation in invocations.Where(i => i.IsTerminal && !done.ContainsKey(i.InstanceId)))
            {
                var run = await CollectAsync(commandId, invocation, started.Elapsed, cancellationToken);
                done[run.InstanceId] = run;
                log?.Invoke($"  {run.InstanceId}  {run.Status,-9} {(run.ExitCode >= 0 ? $"exit {run.ExitCode}" : "-"),-7} {run.Elapsed.TotalSeconds,5:0.0} s  {run.Reason(options)}");
                if (run.Reached && !run.Succeeded)
                    foreach (var line in run.Lines.Where(l => !l.StartsWith(Delivery.Hosts.Scripts.ScriptLibrary.DataMarker, StringComparison.Ordinal)).TakeLast(25))
                        log?.Invoke($"    {run.InstanceId} | {line}");
            }
            var expected = targets.InstanceIds?.Count;
            var status = await ssm.GetCommandStatusAsync(commandId, cancellationToken);
            var complete = SsmInvocation.TerminalStatuses.Contains(status) && invocations.All(i => i.IsTerminal)
                           && (expected is null || invocations.Count >= expected);
            if (complete)
                return invocations.Select(i => done.TryGetValue(i.InstanceId, out var r) ? r : null).OfType<InstanceRun>().ToList();
            await Task.Delay(options.PollInterval, cancellationToken);
        }
    }

    async Task<InstanceRun> CollectAsync(string commandId, SsmInvocation listed, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        // ListCommandInvocations carries only 2,500 characters of output; GetCommandInvocation has the 24,000 that
        // end with the summary.
        var full = listed.Status == "Cancelled" && listed.ResponseCode < 0 ? listed : null;
        for (var attempt = 1; full is null; attempt++)
        {
            try
            {
                full = await ssm.GetCommandInvocationAsync(commandId, listed.InstanceId, cancellationToken);
            }
            catch (AwsException ex) when (ex.ErrorCode == "InvocationDoesNotExist" && attempt < 30)
            {
                // SSM may list an invocation a moment before GetCommandInvocation finds it.
                await Task.Delay(options.PollInterval, cancellationToken);
            }
        }
        var lines = SsmHost.Lines(full.StandardOutputContent).Concat(SsmHost.Lines(full.StandardErrorContent)).ToList();
        var summary = HostSummary.Find(lines);
        lines.RemoveAll(l => l.StartsWith(HostCommand.SummaryMarker, StringComparison.Ordinal));
        var exit = full.ResponseCode >= 0 ? full.ResponseCode : summary?.Exit ?? -1;
        return new InstanceRun(listed.InstanceId, full.Status, full.StatusDetails, exit, lines, summary, elapsed);
    }

    async Task CancelAsync(string commandId)
    {
        // The caller's token is already cancelled: the cancel and the wait for it get their own budget.
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await ssm.CancelCommandAsync(commandId, null, budget.Token);
            while (!budget.IsCancellationRequested)
            {
                var invocations = await ssm.ListCommandInvocationsAsync(commandId, budget.Token);
                if (invocations.All(i => i.IsTerminal))
                {
                    foreach (var i in invocations) log?.Invoke($"  {i.InstanceId}  {i.Status}");
                    return;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(500), budget.Token);
            }
        }
        catch (Exception ex) when (ex is DeliveryException or OperationCanceledException)
        {
            log?.Invoke($"warning: cancelling SSM command {commandId} did not complete: {ex.Message}");
        }
    }
}
