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

    /// <summary>What one instance's script needs (health + bake + margin, see <see cref="FleetLifetimes.PerInstance"/>).
    /// When set, the command's TimeoutSeconds, executionTimeout and the build's deadline are sized to the fleet
    /// (<see cref="FleetLifetimes.For(int, string, TimeSpan, TimeSpan?)"/>) instead of the two fixed timeouts above.</summary>
    public TimeSpan? PerInstanceBudget { get; init; }

    /// <summary>True when the operator set the execution or delivery timeout: then every command uses those two, and
    /// no per-instance budget sizes them.</summary>
    public bool FixedLifetimes { get; init; }

    /// <summary>With <see cref="PerInstanceBudget"/>: how long a script may wait for another run's lock (see
    /// <see cref="FleetLifetimes"/>: in every executionTimeout, once in the roll).</summary>
    public TimeSpan LockWait { get; init; }

    /// <summary>With <see cref="PerInstanceBudget"/>: lifetimes the caller already sized from it (the site's fit check),
    /// sent as they are unless more instances are online than they were sized for.</summary>
    public FleetLifetimes? Lifetimes { get; init; }

    /// <summary>The roll must end within this (a CI job's timeout-minutes, less its other steps); checked before sending.</summary>
    public TimeSpan? MustFinishWithin { get; init; }

    /// <summary>Check every target with DescribeInstanceInformation before sending: an offline or unmanaged
    /// instance stops the command before anything runs.</summary>
    public bool Preflight { get; init; } = true;

    /// <summary>With <see cref="Preflight"/>: send to the online instances only and name the skipped ones.</summary>
    public bool SkipOffline { get; init; }

    /// <summary>What the caller's cancellation does to a command already sent: true cancels it on every target
    /// (CancelCommand); false leaves it running (an undo that must not be cut short) and only stops waiting. Either
    /// way <see cref="SsmFleet.RunAsync"/> then throws <see cref="FleetCancelledException"/>.</summary>
    public bool CancelOnAbort { get; init; } = true;

    /// <summary>How long the CancelCommand and the one listing after it may take when the caller cancels: the
    /// build has 7.5 s in all on GitHub (SIGINT, then SIGTERM), and the switch-back needs the rest.</summary>
    public TimeSpan CancelBudget { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The build's own deadline for the whole command: SSM expires it at send + TimeoutSeconds +
    /// executionTimeout (every unfinished invocation becomes Delivery Timed Out), whatever the number of instances;
    /// the build waits a minute longer for the last results.</summary>
    public TimeSpan WaitDeadline(int instances) =>
        TimeSpan.FromSeconds(DeliveryTimeoutSeconds + (long)ExecutionTimeoutSeconds + FleetLifetimes.ResultMarginSeconds);

    public void Validate()
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(MaxConcurrency, "^([1-9][0-9]{0,5}|([1-9][0-9]?|100)%)$"))
            throw new DeliveryException($"Max concurrency '{MaxConcurrency}' must be a number of instances (1, 2, …) or a percentage (25%)");
        if (!System.Text.RegularExpressions.Regex.IsMatch(MaxErrors, "^([0-9]{1,6}|([0-9]{1,2}|100)%)$"))
            throw new DeliveryException($"Max errors '{MaxErrors}' must be a number of instances (0, 1, …) or a percentage (10%)");
        // The agent runs any other value with its default of 3600 s (pluginutil.ValidateExecutionTimeout).
        if (ExecutionTimeoutSeconds is < FleetLifetimes.MinExecutionTimeoutSeconds or > FleetLifetimes.MaxExecutionTimeoutSeconds)
            throw new DeliveryException($"The execution timeout must be {FleetLifetimes.MinExecutionTimeoutSeconds} to {FleetLifetimes.MaxExecutionTimeoutSeconds} seconds, not {ExecutionTimeoutSeconds}");
        if (DeliveryTimeoutSeconds is < 30 or > 2_592_000)
            throw new DeliveryException($"The delivery timeout (SendCommand TimeoutSeconds) must be 30 to 2592000 seconds, not {DeliveryTimeoutSeconds}");
    }
}

/// <summary>One instance's part of a fleet command.</summary>
/// <param name="ExecutionStarted">The script started on the instance (the agent took the command).</param>
public sealed record InstanceRun(string InstanceId, string Status, string StatusDetails, int ExitCode, IReadOnlyList<string> Lines, HostSummary? Summary, TimeSpan Elapsed, bool ExecutionStarted = false)
{
    public bool Succeeded => Status == "Success" && ExitCode == 0;

    /// <summary>The command expired (send + TimeoutSeconds + executionTimeout) before this instance finished.</summary>
    public bool DeliveryTimedOut => Status == "TimedOut" && StatusDetails.Replace(" ", "").Contains("DeliveryTimedOut", StringComparison.OrdinalIgnoreCase);

    /// <summary>False when SSM never ran the script there (the roll stopped first, it was cancelled while pending, or
    /// the command expired before the instance took it).</summary>
    public bool Reached => ExecutionStarted || ExitCode >= 0 || Lines.Count > 0 || !(Status == "Cancelled" || DeliveryTimedOut);

    /// <summary>The timeouts the command was sent with, when they were sized to the fleet.</summary>
    public FleetLifetimes? Lifetimes { get; init; }

    public HostResult Result => new(Succeeded ? 0 : Math.Max(1, ExitCode), Lines);

    /// <summary>Why it failed, in a few words: the script's own reason, or which of SSM's timeouts expired and
    /// whether the script was running then.</summary>
    public string Reason(FleetOptions options)
    {
        var delivery = Lifetimes?.DeliveryTimeoutSeconds ?? options.DeliveryTimeoutSeconds;
        var execution = Lifetimes?.ExecutionTimeoutSeconds ?? options.ExecutionTimeoutSeconds;
        var expiry = $"the command expired {delivery + execution} s after it was sent (TimeoutSeconds {delivery} s + executionTimeout {execution} s)";
        return Status switch
        {
            "Success" when ExitCode == 0 => "ok",
            "TimedOut" when DeliveryTimedOut && Reached =>
                $"{expiry} while the script was running on the instance; its result no longer counts",
            "TimedOut" when DeliveryTimedOut =>
                $"{expiry} before the instance took it: never reached (offline, or the roll got to it too late)",
            "TimedOut" => $"execution timeout (executionTimeout {execution} s) reached; the agent killed the script while it ran" +
                          (Summary is { Error.Length: > 0 } s ? $"; summary: {s.Error}" : Result.Tail(2) is { Length: > 0 } t ? $"; last output: {t}" : ""),
            "Cancelled" => Reached ? "cancelled; the agent killed the script while it ran" : "not reached",
            _ when Summary is { Error.Length: > 0 } s => s.Error,
            _ when ExitCode < 0 => $"SSM status {Status} ({StatusDetails}) before the script ran",
            _ => $"exit code {ExitCode}: {Result.Tail(3)}",
        };
    }
}

/// <summary>The caller cancelled a fleet command: each target as SSM last listed it (a finished instance with its
/// output), after CancelCommand or, with <see cref="FleetOptions.CancelOnAbort"/> false, left running.</summary>
public sealed class FleetCancelledException(string commandId, bool cancelled, IReadOnlyList<InstanceRun> runs)
    : OperationCanceledException($"SSM command {commandId} {(cancelled ? "cancelled" : "left running")}")
{
    public string CommandId { get; } = commandId;

    /// <summary>True when CancelCommand went out (the agent kills what runs); false when the command was left running.</summary>
    public bool Cancelled { get; } = cancelled;

    public IReadOnlyList<InstanceRun> Runs { get; } = runs;
}

/// <summary>What the pre-flight found: the instances that can take a command, and the others with their PingStatus
/// ("not managed" when no SSM agent is registered for the id).</summary>
public sealed record FleetPreflight(IReadOnlyList<string> Online, IReadOnlyList<(string InstanceId, string PingStatus)> Unavailable)
{
    public string UnavailableText => string.Join(", ", Unavailable.Select(u => $"{u.InstanceId} ({u.PingStatus})"));
}

/// <summary>
/// Sends one host script to a fleet through SSM Run Command (Targets, MaxConcurrency, MaxErrors: SSM's own rate
/// control, no orchestrator of ours) and follows it with ListCommandInvocations, printing one line per instance as it
/// finishes. Ctrl-C cancels the command on every target.
/// </summary>
public sealed class SsmFleet(SsmClient ssm, SsmTargets targets, FleetOptions options, Action<string>? log = null)
{
    IReadOnlyList<SsmInvocation> lastListed = [];
    readonly Dictionary<string, InstanceRun> finished = new(StringComparer.Ordinal);
    readonly Stopwatch sinceSent = new();

    public SsmTargets Targets => targets;

    /// <summary>After <see cref="RunAsync"/>: the instances the pre-flight left out (with --skip-offline).</summary>
    public IReadOnlyList<(string InstanceId, string PingStatus)> Skipped { get; private set; } = [];

    /// <summary>After <see cref="RunAsync"/>: the timeouts sized to the fleet, when the options gave a per-instance budget.</summary>
    public FleetLifetimes? Lifetimes { get; private set; }

    /// <summary>DescribeInstanceInformation for the targets: which can take a command now.</summary>
    public async Task<FleetPreflight> PreflightAsync(CancellationToken cancellationToken = default)
    {
        var known = await ssm.DescribeInstanceInformationAsync(targets, cancellationToken);
        var byId = known.ToDictionary(i => i.InstanceId, StringComparer.Ordinal);
        var ids = targets.InstanceIds ?? known.Select(i => i.InstanceId).OrderBy(i => i, StringComparer.Ordinal).ToList();
        var online = ids.Where(id => byId.TryGetValue(id, out var i) && i.IsOnline).ToList();
        var unavailable = ids.Where(id => !online.Contains(id))
            .Select(id => (id, byId.TryGetValue(id, out var i) ? i.PingStatus : "not managed: no SSM agent registered")).ToList();
        return new FleetPreflight(online, unavailable);
    }

    public async Task<IReadOnlyList<InstanceRun>> RunAsync(string script, string what, CancellationToken cancellationToken = default)
    {
        options.Validate();
        string[] commands = [HostCommand.Wrap(script)];
        SsmLimits.CheckCommandSize(commands); // local checks before any request
        var sendTo = targets;
        int? count = targets.InstanceIds?.Count;
        if (options.Preflight)
        {
            var preflight = await PreflightAsync(cancellationToken);
            if (preflight.Online.Count == 0 && preflight.Unavailable.Count == 0) return [];
            if (preflight.Unavailable.Count > 0)
            {
                if (!options.SkipOffline)
                    throw new DeliveryException($"{what}: nothing was sent; {preflight.Unavailable.Count} of {preflight.Online.Count + preflight.Unavailable.Count} instance(s) cannot take a command: {preflight.UnavailableText} (bring them back, or pass --skip-offline to roll the others)");
                if (preflight.Online.Count == 0)
                    throw new DeliveryException($"{what}: nothing was sent; no targeted instance is online: {preflight.UnavailableText}");
                Skipped = preflight.Unavailable;
                sendTo = SsmTargets.Instances([.. preflight.Online]);
                log?.Invoke($"{what}: skipping offline instance(s) {preflight.UnavailableText}");
            }
            count = preflight.Online.Count;
        }

        var (delivery, execution, deadline) = (options.DeliveryTimeoutSeconds, options.ExecutionTimeoutSeconds, options.WaitDeadline(count ?? 10));
        if (options.PerInstanceBudget is { } budget)
        {
            Lifetimes = options.Lifetimes is { } sized && sized.Instances >= (count ?? 10)
                ? sized
                : FleetLifetimes.For(count ?? 10, options.MaxConcurrency, budget, options.MustFinishWithin, options.LockWait);
            (delivery, execution, deadline) = (Lifetimes.DeliveryTimeoutSeconds, Lifetimes.ExecutionTimeoutSeconds, Lifetimes.BuildDeadline);
            log?.Invoke($"{what}: {Lifetimes}");
        }

        var commandId = await ssm.SendCommandAsync(new SsmCommand
        {
            Targets = sendTo,
            Commands = commands,
            ExecutionTimeoutSeconds = execution,
            DeliveryTimeoutSeconds = delivery,
            MaxConcurrency = options.MaxConcurrency,
            MaxErrors = options.MaxErrors,
            OutputS3BucketName = options.OutputS3BucketName,
            CloudWatchLogGroupName = options.CloudWatchLogGroupName,
            Comment = $"{options.Comment}: {what}",
        }, cancellationToken);
        log?.Invoke($"{what}: SSM command {commandId} to {sendTo} (max concurrency {options.MaxConcurrency}, max errors {options.MaxErrors})");

        using var deadlineToken = new CancellationTokenSource(deadline);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineToken.Token);
        try
        {
            var runs = await FollowAsync(commandId, sendTo.InstanceIds?.Count, linked.Token);
            return Lifetimes is null ? runs : runs.Select(r => r with { Lifetimes = Lifetimes }).ToList();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadlineToken.IsCancellationRequested)
        {
            var running = lastListed.Where(i => !i.IsTerminal && (i.ExecutionStarted || i.Status is "InProgress" or "Cancelling")).Select(i => i.InstanceId).ToList();
            var waiting = lastListed.Where(i => !i.IsTerminal).Select(i => i.InstanceId).Except(running).ToList();
            await CancelAsync(commandId);
            throw new DeliveryException($"{what}: SSM command {commandId} gave no result within the build's wait deadline of {deadline.TotalSeconds:0} s " +
                                        $"(TimeoutSeconds {delivery} s + executionTimeout {execution} s + {FleetLifetimes.ResultMarginSeconds} s); it was cancelled" +
                                        (running.Count > 0 ? $"; still running on {string.Join(", ", running)}" : "") +
                                        (waiting.Count > 0 ? $"; never reached {string.Join(", ", waiting)}" : ""));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (options.CancelOnAbort)
            {
                log?.Invoke($"{what}: cancelling SSM command {commandId} on every target");
                await CancelQuicklyAsync(commandId);
            }
            else log?.Invoke($"{what}: stopped waiting; SSM command {commandId} keeps running");
            throw new FleetCancelledException(commandId, options.CancelOnAbort, RunsSoFar(sendTo));
        }
    }

    /// <summary>Every target as last listed: finished ones with their output, the others by status. Running (or
    /// being cancelled) counts as reached: the script may have got anywhere. Pending counts as not reached.</summary>
    IReadOnlyList<InstanceRun> RunsSoFar(SsmTargets sentTo)
    {
        var ids = (sentTo.InstanceIds ?? []).Concat(lastListed.Select(i => i.InstanceId)).Distinct(StringComparer.Ordinal);
        return ids.Select(id =>
        {
            if (finished.TryGetValue(id, out var run)) return run;
            var listed = lastListed.FirstOrDefault(i => i.InstanceId == id);
            var started = listed is not null && (listed.ExecutionStarted || listed.Status is "InProgress" or "Cancelling" or "Success" or "Failed"
                                                 || listed is { Status: "TimedOut", DeliveryTimedOut: false });
            return started
                ? new InstanceRun(id, listed!.Status, listed.StatusDetails, listed.Status == "Success" ? listed.ResponseCode : -1, [], null, sinceSent.Elapsed, true)
                : new InstanceRun(id, listed?.Status == "Pending" ? "Pending" : "Cancelled", listed?.StatusDetails ?? "not listed", -1, [], null, sinceSent.Elapsed);
        }).ToList();
    }

    /// <summary>CancelCommand and one listing after it, within <see cref="FleetOptions.CancelBudget"/>: the agent
    /// kills what runs (SIGKILL of the process group), SSM cancels what is pending.</summary>
    async Task CancelQuicklyAsync(string commandId)
    {
        using var budget = new CancellationTokenSource(options.CancelBudget);
        try
        {
            await ssm.CancelCommandAsync(commandId, null, budget.Token);
            // Until the agents confirm the kill (Cancelling becomes Cancelled), a switch-back could run beside the
            // script it undoes; the budget bounds the wait, and the switch-back's lock wait covers the rest.
            while (true)
            {
                lastListed = await ssm.ListCommandInvocationsAsync(commandId, budget.Token);
                if (lastListed.All(i => i.IsTerminal)) break;
                await Task.Delay(TimeSpan.FromMilliseconds(200), budget.Token);
            }
            foreach (var i in lastListed.Where(i => !finished.ContainsKey(i.InstanceId))) log?.Invoke($"  {i.InstanceId}  {i.Status}");
        }
        catch (Exception ex) when (ex is DeliveryException or OperationCanceledException)
        {
            log?.Invoke($"warning: cancelling SSM command {commandId} did not complete within {options.CancelBudget.TotalSeconds:0.#} s: {ex.Message}");
        }
    }

    async Task<IReadOnlyList<InstanceRun>> FollowAsync(string commandId, int? expected, CancellationToken cancellationToken)
    {
        var done = finished;
        var started = sinceSent;
        started.Restart();
        while (true)
        {
            var invocations = await ssm.ListCommandInvocationsAsync(commandId, cancellationToken);
            lastListed = invocations;
            foreach (var invocation in invocations.Where(i => i.IsTerminal && !done.ContainsKey(i.InstanceId)))
            {
                var run = await CollectAsync(commandId, invocation, started.Elapsed, cancellationToken);
                done[run.InstanceId] = run;
                log?.Invoke($"  {run.InstanceId}  {run.Status,-9} {(run.ExitCode >= 0 ? $"exit {run.ExitCode}" : "-"),-7} {run.Elapsed.TotalSeconds,5:0.0} s  {run.Reason(options)}");
                if (run.Reached && !run.Succeeded)
                    foreach (var line in run.Lines.Where(l => !l.StartsWith(Delivery.Hosts.Scripts.ScriptLibrary.DataMarker, StringComparison.Ordinal)).TakeLast(25))
                        log?.Invoke($"    {run.InstanceId} | {line}");
            }
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
        var full = (listed.Status == "Cancelled" || listed.DeliveryTimedOut) && listed.ResponseCode < 0 && !listed.ExecutionStarted ? listed : null;
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
        var lines = HostCommand.OutputLines(full.StandardOutputContent).Concat(HostCommand.OutputLines(full.StandardErrorContent)).ToList();
        var summary = HostSummary.Find(lines);
        lines.RemoveAll(l => l.StartsWith(HostCommand.SummaryMarker, StringComparison.Ordinal));
        var exit = full.ResponseCode >= 0 ? full.ResponseCode : summary?.Exit ?? -1;
        return new InstanceRun(listed.InstanceId, full.Status, full.StatusDetails, exit, lines, summary, elapsed,
            full.ExecutionStarted || listed.ExecutionStarted);
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
