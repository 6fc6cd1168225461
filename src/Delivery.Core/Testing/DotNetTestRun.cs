using System.Diagnostics;
using System.Globalization;

namespace Delivery.Core.Testing;

public sealed record DotNetTestOptions
{
    /// <summary>The dotnet host to run (the one running the build, so the same SDK).</summary>
    public string DotNet { get; init; } = "dotnet";
    public required string Configuration { get; init; }
    /// <summary>Each project writes &lt;name&gt;.trx here.</summary>
    public required string ResultsDirectory { get; init; }
    /// <summary>Passed to <c>dotnet test --filter</c>; a bare word matches test names that contain it.</summary>
    public string? Filter { get; init; }
    public int Parallelism { get; init; } = 1;
    /// <summary>Durations of an earlier run, to start the longest projects first.</summary>
    public IReadOnlyDictionary<string, TimeSpan>? EarlierDurations { get; init; }
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
    /// <summary>
    /// The <c>nice</c> increment of the projects off the critical path (see <see cref="TestProjectScheduler"/>), so
    /// they take the CPU it leaves rather than stretch it; 0 runs all alike. Not on Windows, which has no nice.
    /// </summary>
    public int OffCriticalPathNiceness { get; init; }
}

/// <summary>How one project's <c>dotnet test</c> went. <see cref="Problem"/> is null when it passed.</summary>
public sealed record ProjectTestResult(TestProject Project, TestCounts Counts, TimeSpan WallTime, string? Problem, TrxReport? Report);

public sealed record TestRunSummary(IReadOnlyList<ProjectTestResult> Projects, TimeSpan WallTime)
{
    public TestCounts Total => Projects.Aggregate(new TestCounts(0, 0, 0), (sum, p) => sum + p.Counts);

    public IReadOnlyList<string> Problems => Projects.Select(p => p.Problem).OfType<string>().ToList();

    public string Line => $"Tests: {Total}";
}

/// <summary>
/// Runs <c>dotnet test</c> for each project (built already), side by side as <see cref="TestProjectScheduler"/>
/// allows, and reads the counts from each project's TRX file; a project's output lines carry its name.
/// </summary>
public static class DotNetTestRun
{
    public static async Task<TestRunSummary> RunAsync(IReadOnlyList<TestProject> projects, DotNetTestOptions options,
        Action<string> log, Action<string> output, CancellationToken cancellationToken = default)
    {
        if (Directory.Exists(options.ResultsDirectory)) Directory.Delete(options.ResultsDirectory, recursive: true);
        Directory.CreateDirectory(options.ResultsDirectory);
        var clock = Stopwatch.StartNew();
        var results = await TestProjectScheduler.RunAsync(projects, options.Parallelism, options.EarlierDurations,
            (project, offCriticalPath, ct) => RunProjectAsync(project, offCriticalPath, options, log, output, ct), cancellationToken);
        return new TestRunSummary(results, clock.Elapsed);
    }

    static async Task<ProjectTestResult> RunProjectAsync(TestProject project, bool offCriticalPath, DotNetTestOptions options,
        Action<string> log, Action<string> output, CancellationToken cancellationToken)
    {
        var trx = Path.Combine(options.ResultsDirectory, $"{project.Name}.trx");
        string[] arguments =
        [
            "test", project.ProjectFile, "--no-build", "--configuration", options.Configuration,
            "--logger", $"trx;LogFileName={project.Name}.trx", "--results-directory", options.ResultsDirectory,
            .. options.Filter is { Length: > 0 } filter ? ["--filter", filter] : Array.Empty<string>(),
        ];
        var prefix = options.Parallelism > 1 ? $"[{project.Name}] " : "";
        var runner = new ToolRunner(line => log(prefix + line), line => output(prefix + line));
        // nice(1) rather than a priority set after the start: every process dotnet test starts inherits it from the first.
        (string Program, string[] Arguments) launch = offCriticalPath && options.OffCriticalPathNiceness > 0 && !OperatingSystem.IsWindows()
            ? ("nice", ["-n", options.OffCriticalPathNiceness.ToString(CultureInfo.InvariantCulture), options.DotNet, .. arguments])
            : (options.DotNet, arguments);
        var clock = Stopwatch.StartNew();
        var result = await runner.RunAsync(launch.Program, launch.Arguments, new ProcessOptions { Environment = options.Environment },
            allowFailure: true, cancellationToken: cancellationToken);
        var wallTime = clock.Elapsed;
        log($"{project.Name} finished in {wallTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s (exit code {result.ExitCode})");
        if (!File.Exists(trx))
            return new ProjectTestResult(project, default, wallTime, $"{project.Name} produced no test results (exit code {result.ExitCode})", null);
        var report = TrxReport.Read(trx);
        var problem = report.Counts.Failed > 0 ? $"{report.Counts.Failed} failed in {project.Name}"
            : !result.Succeeded ? $"{project.Name} exited with code {result.ExitCode}"
            : null;
        return new ProjectTestResult(project, report.Counts, wallTime, problem, report);
    }
}

/// <summary>
/// Each project's wall time and counts from a test run, one tab-separated line per project plus a <c>total</c>
/// line, so the next run can start the longest projects first and bench/test-time.sh can compare runs.
/// </summary>
public static class TestTimes
{
    public const string Header = "project\tseconds\tpassed\tfailed\tskipped";

    public static string Format(TestRunSummary summary)
    {
        var lines = new List<string> { Header };
        lines.AddRange(summary.Projects.Select(p => Line(p.Project.Name, p.WallTime, p.Counts)));
        lines.Add(Line("total", summary.WallTime, summary.Total));
        return string.Join('\n', lines) + "\n";
    }

    static string Line(string name, TimeSpan time, TestCounts counts) =>
        string.Create(CultureInfo.InvariantCulture, $"{name}\t{time.TotalSeconds:0.0}\t{counts.Passed}\t{counts.Failed}\t{counts.Skipped}");

    /// <summary>Project name to wall time; an unreadable or missing file gives an empty map. With several files, a
    /// later file's figure for a project replaces an earlier one's (a full run's times, then a run of one project).</summary>
    public static IReadOnlyDictionary<string, TimeSpan> ReadDurations(params string[] paths)
    {
        var durations = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var path in paths.Where(File.Exists))
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var fields = line.Split('\t');
                if (fields.Length >= 2 && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                    durations[fields[0]] = TimeSpan.FromSeconds(seconds);
            }
        return durations;
    }
}
