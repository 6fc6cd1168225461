namespace Aws.TestEndpoint;

/// <summary>
/// One SendCommand across its targets, with SSM's rate controls: at most MaxConcurrency invocations run at once, in
/// target order, and once more than MaxErrors have failed no further invocation starts; those end Cancelled without
/// having run (SSM stops sending the command to more targets). Delivery Timed Out does not count as an error.
/// <para>The command expires at send + TimeoutSeconds + executionTimeout: every invocation then still Pending or
/// InProgress becomes Delivery Timed Out. No invocation starts later than send + TimeoutSeconds: it stays Pending
/// until the command expires. An invocation whose instance is offline stays Pending (taking no concurrency slot)
/// until it starts when the instance comes back, or the command expires.</para>
/// </summary>
sealed class RunCommand(string commandId, IReadOnlyList<RunCommandInvocation> invocations, int maxConcurrency, int maxErrors)
{
    public string CommandId { get; } = commandId;
    public IReadOnlyList<RunCommandInvocation> Invocations { get; } = invocations;
    public int MaxConcurrency { get; } = maxConcurrency;
    public int MaxErrors { get; } = maxErrors;
    public string RawMaxConcurrency { get; init; } = "50";
    public string RawMaxErrors { get; init; } = "0";
    public DateTimeOffset Requested { get; } = DateTimeOffset.UtcNow;
    public int TimeoutSeconds { get; init; } = 3600;
    public int ExecutionTimeoutSeconds { get; init; } = 3600;
    public DateTimeOffset ExpiresAfter => Requested.AddSeconds(TimeoutSeconds + ExecutionTimeoutSeconds);
    /// <summary>SendCommand TimeoutSeconds: "If this time is reached and the command hasn't already started running, it won't run."</summary>
    public DateTimeOffset StartsNoLaterThan => Requested.AddSeconds(TimeoutSeconds);
    public int MaxParallelSeen;
    public int ErrorCount => Invocations.Count(i => i.IsError);
    public int DeliveryTimedOutCount => Invocations.Count(i => i.IsDeliveryTimedOut);

    public string Status
    {
        get
        {
            if (Invocations.Count == 0) return "Success";
            if (!Invocations.All(i => i.IsTerminal)) return Invocations.Any(i => i.Status != "Pending") ? "InProgress" : "Pending";
            if (Invocations.Any(i => i.IsError)) return "Failed";
            if (Invocations.Any(i => i.IsDeliveryTimedOut)) return "TimedOut";
            if (Invocations.Any(i => i.Status == "Cancelled")) return "Cancelled";
            return "Success";
        }
    }

    /// <param name="online">Whether the instance's agent is connected now.</param>
    public void Start(IReadOnlyList<string> lines, Func<RunCommandInvocation, bool> online,
        Func<RunCommandInvocation, IReadOnlyDictionary<string, string>> environment)
    {
        _ = Task.Run(async () =>
        {
            var delay = ExpiresAfter - DateTimeOffset.UtcNow;
            if (delay > TimeSpan.Zero) await Task.Delay(delay);
            foreach (var invocation in Invocations) invocation.Expire();
        });
        _ = Task.Run(async () =>
        {
            var running = new List<Task>();
            var waiting = new List<RunCommandInvocation>();
            foreach (var invocation in Invocations)
            {
                while (running.Count >= MaxConcurrency)
                {
                    await Task.WhenAny(running);
                    running.RemoveAll(t => t.IsCompleted);
                }
                if (ErrorCount > MaxErrors || invocation.IsTerminal)
                {
                    invocation.NotReached();
                    continue;
                }
                if (!online(invocation) || DateTimeOffset.UtcNow >= StartsNoLaterThan)
                {
                    waiting.Add(invocation);
                    continue;
                }
                running.Add(invocation.RunAsync(lines, ExecutionTimeoutSeconds, environment(invocation)));
                MaxParallelSeen = Math.Max(MaxParallelSeen, running.Count(t => !t.IsCompleted));
            }
            // Offline instances take the command if their agent reconnects before it expires.
            while (waiting.Count > 0 && DateTimeOffset.UtcNow < StartsNoLaterThan)
            {
                foreach (var invocation in waiting.Where(i => !i.IsTerminal && online(i)).ToList())
                {
                    waiting.Remove(invocation);
                    running.Add(invocation.RunAsync(lines, ExecutionTimeoutSeconds, environment(invocation)));
                }
                waiting.RemoveAll(i => i.IsTerminal);
                await Task.Delay(200);
            }
            await Task.WhenAll(running);
        });
    }

    public static int Parse(string? value, int total, int fallback)
    {
        if (string.IsNullOrEmpty(value)) return fallback;
        if (value.EndsWith('%') && int.TryParse(value[..^1], out var percent))
            return Math.Max(percent == 0 ? 0 : 1, (int)Math.Floor(total * percent / 100.0));
        return int.TryParse(value, out var n) ? n : fallback;
    }
}
