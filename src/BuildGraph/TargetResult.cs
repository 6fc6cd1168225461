namespace BuildGraph;

public enum TargetStatus { NotRun, Skipped, Succeeded, Failed, Aborted }

/// <summary>One row of the summary table.</summary>
public sealed class TargetResult(string name)
{
    public string Name { get; } = name;
    public TargetStatus Status { get; internal set; } = TargetStatus.NotRun;
    public TimeSpan Duration { get; internal set; }
    public string? Note { get; internal set; }
}

/// <summary>The outcome of a run: its exit code and one result per scheduled target, in execution order.</summary>
public sealed class BuildResult(int exitCode, IReadOnlyList<TargetResult> targets, string? closingLine)
{
    public const int Failed = 1;
    public const int Aborted = 130;

    public int ExitCode { get; } = exitCode;
    public IReadOnlyList<TargetResult> Targets { get; } = targets;
    public string? ClosingLine { get; } = closingLine;

    public TargetStatus StatusOf(string target) =>
        Targets.FirstOrDefault(t => t.Name == target)?.Status ?? throw new KeyNotFoundException($"{target} was not scheduled.");
}
