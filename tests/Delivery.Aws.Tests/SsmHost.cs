using Delivery.Core;
using Delivery.Hosts;

namespace Delivery.Aws.Tests;

/// <summary>
/// Test support: runs host scripts on one EC2 instance through SSM Run Command (AWS-RunShellScript), with no SSH.
/// Nothing in src/ runs one instance alone (a fleet of one goes through SsmFleet).
/// <para>
/// Output arrives only when the command ends (GetCommandInvocation has no streaming), so <c>onOutput</c> is called for
/// every line at once then. SSM keeps only the first 24,000 characters of stdout and 8,000 of stderr: a longer
/// output is cut by AWS, and a note line says so. Scripts that must report more should write it to a file or
/// Parameter Store.
/// </para>
/// </summary>
public sealed class SsmHost(SsmClient ssm, string instanceId) : IDeployHost
{
    public const int StandardOutputLimit = SsmLimits.StandardOutputLimit;
    public const int StandardErrorLimit = SsmLimits.StandardErrorLimit;

    public string Name => instanceId;

    /// <summary>How often GetCommandInvocation is asked while the command runs.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many InvocationDoesNotExist answers to accept after sending: SSM needs a moment to register the
    /// invocation, so the first polls may not find it.</summary>
    public int InvocationNotFoundRetries { get; init; } = 30;

    /// <summary>How long the agent lets the script run before it stops it (AWS-RunShellScript executionTimeout).</summary>
    public int ExecutionTimeoutSeconds { get; init; } = 3600;

    /// <summary>How long SSM may wait for the instance to take the command (SendCommand TimeoutSeconds).</summary>
    public int? DeliveryTimeoutSeconds { get; init; }

    public string Comment { get; init; } = "WebApp delivery";

    public async Task<HostResult> RunAsync(string script, Action<string>? onOutput = null, CancellationToken cancellationToken = default)
    {
        var commandId = await ssm.SendCommandAsync(new SsmCommand
        {
            Targets = SsmTargets.Instances(instanceId),
            Commands = [HostCommand.Wrap(script)],
            ExecutionTimeoutSeconds = ExecutionTimeoutSeconds,
            DeliveryTimeoutSeconds = DeliveryTimeoutSeconds,
            Comment = Comment,
        }, cancellationToken);

        SsmInvocation invocation;
        try
        {
            invocation = await WaitAsync(commandId, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CancelBestEffortAsync(commandId);
            throw;
        }
        return ToResult(invocation, onOutput);
    }

    async Task<SsmInvocation> WaitAsync(string commandId, CancellationToken cancellationToken)
    {
        var notFound = 0;
        while (true)
        {
            try
            {
                var invocation = await ssm.GetCommandInvocationAsync(commandId, instanceId, cancellationToken);
                if (invocation.IsTerminal) return invocation;
            }
            catch (AwsException ex) when (ex.ErrorCode == "InvocationDoesNotExist")
            {
                if (++notFound > InvocationNotFoundRetries)
                {
                    await CancelBestEffortAsync(commandId);
                    throw new DeliveryException(
                        $"The SSM command on {instanceId} (command {commandId}) was still unknown to GetCommandInvocation after {notFound} polls; it was cancelled");
                }
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    async Task CancelBestEffortAsync(string commandId)
    {
        // The caller's token is already cancelled; give the cancel request its own short budget.
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await ssm.CancelCommandAsync(commandId, [instanceId], budget.Token);
        }
        catch (Exception ex) when (ex is DeliveryException or OperationCanceledException) { }
    }

    HostResult ToResult(SsmInvocation invocation, Action<string>? onOutput)
    {
        var where = $"on {instanceId} (command {invocation.CommandId})";
        var details = invocation.StatusDetails is { Length: > 0 } d && d != invocation.Status ? $": {d}" : "";
        switch (invocation.Status)
        {
            case "TimedOut":
                throw new DeliveryException($"The SSM command {where} timed out{details}");
            case "Cancelled":
                throw new DeliveryException($"The SSM command {where} was cancelled{details}");
            case "Failed" when invocation.ResponseCode < 0:
                throw new DeliveryException($"The SSM command {where} failed before the script ran{details}");
        }

        var lines = new List<string>();
        lines.AddRange(HostCommand.OutputLines(invocation.StandardOutputContent).Where(l => !l.StartsWith(HostCommand.SummaryMarker, StringComparison.Ordinal)));
        if (invocation.StandardOutputContent.Length >= StandardOutputLimit)
            lines.Add($"[ssm] standard output was cut by SSM at {StandardOutputLimit:N0} characters");
        lines.AddRange(HostCommand.OutputLines(invocation.StandardErrorContent));
        if (invocation.StandardErrorContent.Length >= StandardErrorLimit)
            lines.Add($"[ssm] standard error was cut by SSM at {StandardErrorLimit:N0} characters");
        if (onOutput is not null)
            foreach (var line in lines) onOutput(line);
        return new HostResult(Math.Max(0, invocation.ResponseCode), lines);
    }
}
