namespace BuildGraph;

/// <summary>The state of one run. It flows with the async context so that parallel in-process runs stay apart.</summary>
internal sealed class BuildSession
{
    static readonly AsyncLocal<BuildSession?> current = new();

    // Fallback for callbacks that lost the async context (e.g. threads a library starts on its own).
    static volatile BuildSession? lastStarted;

    public BuildSession(BuildEnvironment environment)
    {
        Environment = environment;
        Console = new BuildConsole(environment, new SecretRedactor());
    }

    public static BuildSession? Current => current.Value;

    public static BuildSession? Active => current.Value ?? lastStarted;

    public BuildEnvironment Environment { get; }

    public BuildConsole Console { get; }

    public AbsolutePath? RootDirectory { get; set; }

    public IReadOnlyList<string> InvokedTargets { get; set; } = [];

    public IReadOnlyList<string> ScheduledTargets { get; set; } = [];

    public TargetResult? RunningTarget { get; set; }

    /// <summary>Set while an assured target runs after Ctrl-C: it must be able to finish its cleanup.</summary>
    public bool RunningAfterAbort { get; set; }

    public string? ClosingLine { get; set; }

    /// <summary>Markdown sections targets added for the job summary, in order.</summary>
    public List<string> StepSummary { get; } = [];

    public bool OnGitHubActions => GitHubActions.IsActive(Environment.Variables);

    public void Enter()
    {
        current.Value = this;
        lastStarted = this;
    }

    public void Leave()
    {
        if (ReferenceEquals(lastStarted, this)) lastStarted = null;
    }
}
