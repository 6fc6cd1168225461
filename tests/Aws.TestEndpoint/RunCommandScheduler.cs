namespace Aws.TestEndpoint;

/// <summary>
/// One SendCommand across its targets, with SSM's rate controls: at most MaxConcurrency invocations run at once, in
/// target order, and once more than MaxErrors have failed no further invocation starts; those end Cancelled without
/// having run (SSM stops sending the command to more targets).
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
    public int MaxParallelSeen;
    public int ErrorCount => Invocations.Count(i => i.Status is "Failed" or "TimedOut");

    public string Status
    {
        get
        {
            if (Invocations.Count == 0) return "Success";
            if (!Invocations.All(i => i.IsTerminal)) return Invocations.Any(i => i.Status != "Pending") ? "InProgress" : "Pending";
            if (Invocations.Any(i => i.Status is "Failed" or "TimedOut")) return "Failed";
            if (Invocations.Any(i => i.Status == "Cancelled")) return "Cancelled";
            return "Success";
        }
    }

    public void Start(IReadOnlyList<string> lines, int executionTimeout, Func<RunCommandInvocation, IReadOnlyDictionary<string, string>> environment) =>
        _ = Task.Run(async () =>
        {
            var running = new List<Task>();
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
                running.Add(invocation.RunAsync(lines, executionTimeout, environment(invocation)));
                MaxParallelSeen = Math.Max(MaxParallelSeen, running.Count(t => !t.IsCompleted));
            }
            await Task.WhenAll(running);
        });

    public static int Parse(string? value, int total, int fallback)
    {
        if (string.IsNullOrEmpty(value)) return fallback;
        if (value.EndsWith('%') && int.TryParse(value[..^1], out var percent))
            return Math.Max(percent == 0 ? 0 : 1, (int)Math.Floor(total * percent / 100.0));
        return int.TryParse(value, out var n) ? n : fallback;
    }
}
