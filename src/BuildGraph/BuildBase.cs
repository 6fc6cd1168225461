using System.Runtime.InteropServices;

namespace BuildGraph;

/// <summary>
/// Base of a build class: targets are properties of type <see cref="Target"/>, parameters are members marked
/// <see cref="ParameterAttribute"/>. <c>public static int Main(string[] args) => Execute&lt;Build&gt;(args, x => x.Compile);</c>
/// </summary>
public abstract class BuildBase
{
    readonly BuildSession? session = BuildSession.Current;

    /// <summary>Runs the build in this process: the real environment, console, and Ctrl-C / SIGTERM handling.</summary>
    protected static int Execute<T>(string[] args, params Func<T, Target>[] defaultTargets) where T : BuildBase, new()
    {
        using var abort = new CancellationTokenSource();
        long firstSignal = 0;
        void OnSignal(PosixSignalContext context)
        {
            // The first signal aborts gracefully (assured targets still run); a later one terminates at once. A
            // repeat within a second is the same request delivered twice (to the process and to its group).
            var now = Environment.TickCount64;
            var first = Interlocked.CompareExchange(ref firstSignal, now, 0);
            if (first != 0 && now - first > 1000) return;
            context.Cancel = true;
            if (first != 0) return;
            Console.Error.WriteLine("Aborting… (press Ctrl-C again to terminate at once)");
            abort.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return BuildRunner.Run(args, BuildEnvironment.FromProcess(abort.Token), defaultTargets).ExitCode;
    }

    BuildSession Session => session ?? throw new InvalidOperationException("This build was not started by BuildRunner.");

    /// <summary>The folder that contains <c>.nuke/</c>.</summary>
    public AbsolutePath RootDirectory => Session.RootDirectory ?? throw new InvalidOperationException("The root directory is not known yet.");

    /// <summary>True on CI (<c>CI=true</c> or <c>GITHUB_ACTIONS=true</c>).</summary>
    public bool IsServerBuild => IsTrue(EnvironmentVariable("CI")) || IsTrue(EnvironmentVariable("GITHUB_ACTIONS"));

    public bool IsLocalBuild => !IsServerBuild;

    /// <summary>True with <c>--verbose</c>.</summary>
    public bool Verbose => Session.Console.Verbose;

    /// <summary>Cancelled by Ctrl-C / SIGTERM. Pass it to everything that can wait.</summary>
    public CancellationToken CancellationToken => Session.RunningAfterAbort ? CancellationToken.None : Session.Environment.Cancellation;

    /// <summary>The targets named on the command line (or the default ones).</summary>
    public IReadOnlyList<string> InvokedTargets => Session.InvokedTargets;

    /// <summary>The targets of this run in execution order, skipped ones included.</summary>
    public IReadOnlyList<string> ScheduledTargets => Session.ScheduledTargets;

    /// <summary>A variable of the build's environment (the process environment, or the one a test supplied).</summary>
    public string? EnvironmentVariable(string name) => Session.Environment.Variables.GetValueOrDefault(name);

    /// <summary>Sets the note of the running target in the summary table (the last call wins).</summary>
    public void ReportSummary(string note)
    {
        if (Session.RunningTarget is { } target) target.Note = note;
    }

    /// <summary>A Markdown section for the job summary: on GitHub Actions it follows the summary table in
    /// <c>$GITHUB_STEP_SUMMARY</c>; elsewhere it is not shown (targets log what matters locally themselves).</summary>
    public void AddStepSummary(string markdown) => Session.StepSummary.Add(Log.Redact(markdown));

    /// <summary>True on GitHub Actions (<c>GITHUB_ACTIONS=true</c>).</summary>
    public bool IsGitHubActions => Session.OnGitHubActions;

    /// <summary>A line printed after the summary table, as the very last line of the output.</summary>
    public void ReportClosingLine(string line) => Session.ClosingLine = line;

    /// <summary>Called once parameters are set and requirements checked, before the first target runs.</summary>
    protected internal virtual void OnBuildInitialized() { }

    static bool IsTrue(string? value) => value?.Trim() is { } v && (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1");
}
