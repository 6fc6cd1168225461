using System.Reflection;

namespace BuildGraph;

/// <summary>
/// Runs a build class: reads the command line, parameters and target graph, runs the targets, prints the summary.
/// Everything external comes from a <see cref="BuildEnvironment"/>, so a test can run a build in-process and read
/// exactly what it printed.
/// </summary>
public static class BuildRunner
{
    public static BuildResult Run<T>(IReadOnlyList<string> args, BuildEnvironment environment, params Func<T, Target>[] defaultTargets)
        where T : BuildBase, new() =>
        // Off the caller's synchronization context: targets await freely and this thread only waits.
        Task.Run(() => RunAsync(args, environment, defaultTargets)).GetAwaiter().GetResult();

    public static async Task<BuildResult> RunAsync<T>(IReadOnlyList<string> args, BuildEnvironment environment, params Func<T, Target>[] defaultTargets)
        where T : BuildBase, new()
    {
        var session = new BuildSession(environment);
        session.Enter();
        session.Console.Verbose = args.Contains("--verbose");
        try
        {
            return await RunCore(session, args, defaultTargets);
        }
        catch (BuildException e)
        {
            session.Console.Failure(e.Message);
            return new BuildResult(BuildResult.Failed, [], null);
        }
        catch (Exception e)
        {
            session.Console.Failure($"Build engine error: {Describe(e)}");
            session.Console.StackTrace(e);
            return new BuildResult(BuildResult.Failed, [], null);
        }
        finally
        {
            session.Leave();
        }
    }

    static async Task<BuildResult> RunCore<T>(BuildSession session, IReadOnlyList<string> args, Func<T, Target>[] defaultTargets)
        where T : BuildBase, new()
    {
        var environment = session.Environment;
        var console = session.Console;
        var root = FindRoot(environment.WorkingDirectory) ?? FindRoot(environment.FallbackSearchDirectory)
            ?? throw new BuildException($"No .nuke folder in {environment.WorkingDirectory} or any folder above it; run the build inside the repository.");
        session.RootDirectory = root;

        var parameters = BuildParameter.Discover(typeof(T));
        var targetNames = TargetCatalog.TargetProperties(typeof(T)).Select(p => p.Name).ToList();
        try
        {
            BuildSchema.Write(root, parameters, targetNames);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.Line($"Could not update {BuildSchema.RelativePath}: {e.Message}", LogLevel.Warning);
        }

        ParametersFile? file = null;
        BuildException? fileError = null;
        try { file = ParametersFile.Load(root); }
        catch (BuildException e) { fileError = e; }
        ParameterSources.RegisterSecrets(parameters, args, environment.Variables, file, console.Redactor);

        var invocation = BuildCommandLine.Parse(args, parameters);
        console.Verbose = invocation.Verbose;

        T build;
        try
        {
            build = new T();
        }
        catch (Exception e) when (e is not BuildException)
        {
            throw new BuildException($"Creating {typeof(T).Name} failed: {Describe(e)}");
        }
        if (invocation.Help)
        {
            var helpCatalog = TargetCatalog.Load(build);
            console.Line(HelpText.Render(helpCatalog, Defaults(build, helpCatalog, defaultTargets), parameters, build).TrimEnd());
            return new BuildResult(0, [], null);
        }
        if (fileError is not null) throw fileError;
        file ??= ParametersFile.Load(root);

        var deprecations = invocation.Deprecations.ToList();
        ParameterSources.Inject(build, parameters, invocation, environment.Variables, file, console.Redactor, deprecations);
        var known = parameters.SelectMany(p => p.DeprecatedNames.Select(Naming.Key).Prepend(p.Key)).Append("target").Append("skip").ToHashSet();
        foreach (var name in file.Names.Where(n => !known.Contains(Naming.Key(n))))
            console.Line($"{ParametersFile.RelativePath}: '{name}' is not a parameter of this build", LogLevel.Warning);

        var catalog = TargetCatalog.Load(build);
        var defaults = Defaults(build, catalog, defaultTargets);
        var names = catalog.Canonical(invocation.Targets.Count > 0 ? invocation.Targets : file.Targets ?? [], deprecations);
        var invoked = names.Count > 0 ? ExecutionPlan.Resolve(catalog, names) : defaults;
        if (invoked.Count == 0)
            throw new BuildException($"No target given and no default target. Available targets: {string.Join(", ", catalog.Listed.Select(t => t.Name))}");

        var plan = ExecutionPlan.Create(catalog, invoked);
        var skipNames = catalog.Canonical(invocation.SkipGiven ? invocation.Skip : file.Skip ?? [], deprecations);
        foreach (var warning in deprecations.Distinct()) console.Line(warning, LogLevel.Warning);
        var skipGiven = invocation.SkipGiven || file.Skip is not null;
        plan.ApplySkips(skipGiven && skipNames.Count == 0, ExecutionPlan.Resolve(catalog, skipNames).ToHashSet());
        session.InvokedTargets = invoked.Select(t => t.Name).ToList();
        session.ScheduledTargets = plan.Steps.Select(s => s.Name).ToList();

        if (invocation.Plan)
        {
            console.Line(PlanGraph.Text(plan).TrimEnd());
            var graph = root / PlanGraph.RelativePath;
            Directory.CreateDirectory(graph.Parent);
            await File.WriteAllTextAsync(graph, PlanGraph.Mermaid(catalog, plan));
            console.Line($"Graph: {graph}");
            return new BuildResult(0, [], null);
        }

        plan.CheckRequirements(parameters);
        try
        {
            build.OnBuildInitialized();
        }
        catch (Exception e) when (e is not BuildException)
        {
            throw new BuildException($"OnBuildInitialized failed: {Describe(e)}");
        }
        return await Execute(session, plan);
    }

    static async Task<BuildResult> Execute(BuildSession session, ExecutionPlan plan)
    {
        var console = session.Console;
        var clock = session.Environment.Clock;
        var abort = session.Environment.Cancellation;
        var results = plan.Steps.Select(s => new TargetResult(s.Name)
        {
            Status = s.SkipReason is null ? TargetStatus.NotRun : TargetStatus.Skipped,
            Note = s.SkipReason,
        }).ToList();
        var resultOf = plan.Steps.Zip(results).ToDictionary(p => p.First.Target, p => p.Second);
        bool failed = false, aborted = false;
        var started = clock.GetTimestamp();

        foreach (var (step, result) in plan.Steps.Zip(results))
        {
            if (step.SkipReason is not null) continue;
            aborted |= abort.IsCancellationRequested;
            var definition = step.Target.Definition;
            var dependenciesOk = step.Target.DependsOn.All(d => resultOf[d].Status is TargetStatus.Succeeded or TargetStatus.Skipped);
            var runs = definition.IsAssured
                || (!failed && !aborted && dependenciesOk)
                || (failed && !aborted && definition.ProceedsAfterFailure && dependenciesOk);
            if (!runs) continue;

            session.RunningAfterAbort = aborted;
            session.RunningTarget = result;
            string? failure = null;
            var begin = clock.GetTimestamp();
            try
            {
                var skip = definition.DynamicConditions.FirstOrDefault(c => !ExecutionPlan.Evaluate(c, step.Name, "OnlyWhenDynamic"));
                if (skip is not null)
                {
                    result.Status = TargetStatus.Skipped;
                    result.Note = "OnlyWhenDynamic: " + ExpressionText.Of(skip);
                    console.Line($"Skipping {step.Name}: {result.Note}");
                    continue;
                }
                console.Header(step.Name);
                if (session.OnGitHubActions) console.Raw(GitHubActions.Group(step.Name));
                foreach (var action in definition.Actions) await action();
                result.Status = TargetStatus.Succeeded;
            }
            catch (Exception e) when (abort.IsCancellationRequested && !session.RunningAfterAbort)
            {
                // Whatever the target threw, it was stopped by Ctrl-C (a killed process, a cancelled wait). A target
                // that undid its work on the way out says where it left things in its own exception's message.
                result.Status = TargetStatus.Aborted;
                aborted = true;
                var said = e is OperationCanceledException ? null : Describe(e);
                result.Note ??= said;
                console.Line($"Target {step.Name} aborted{(said is null ? "" : $": {said}")}", LogLevel.Error);
            }
            catch (Exception e)
            {
                var message = failure = Describe(e);
                result.Status = TargetStatus.Failed;
                result.Note ??= message;
                failed = true;
                console.Line($"Target {step.Name} failed: {message}", LogLevel.Error);
                console.StackTrace(e);
            }
            finally
            {
                if (session.OnGitHubActions && result.Status != TargetStatus.Skipped) console.Raw(GitHubActions.EndGroup);
                // The annotation goes outside the group, so it is visible without opening it.
                if (session.OnGitHubActions && failure is not null)
                    console.Raw(GitHubActions.Error($"{step.Name} failed", failure));
                result.Duration = clock.GetElapsedTime(begin);
                session.RunningTarget = null;
                session.RunningAfterAbort = false;
            }
        }
        aborted |= abort.IsCancellationRequested && results.Any(r => r.Status == TargetStatus.NotRun);

        console.Summary(results);
        var elapsed = BuildConsole.FormatDuration(clock.GetElapsedTime(started));
        var (exitCode, verdict) = aborted ? (BuildResult.Aborted, "aborted")
            : failed ? (BuildResult.Failed, "failed")
            : (0, "succeeded");
        console.Line($"Build {verdict} in {elapsed}", exitCode == 0 ? LogLevel.Information : LogLevel.Error);
        if (session.ClosingLine is { } closing) console.Line(closing);
        if (session.OnGitHubActions) WriteStepSummary(session, results, verdict);
        return new BuildResult(exitCode, results, session.ClosingLine is null ? null : console.Redactor.Redact(session.ClosingLine));
    }

    /// <summary>Appends (the runner may hold earlier steps' summaries) the table and the targets' sections.</summary>
    static void WriteStepSummary(BuildSession session, IReadOnlyList<TargetResult> results, string verdict)
    {
        var file = session.Environment.Variables.GetValueOrDefault("GITHUB_STEP_SUMMARY");
        if (string.IsNullOrWhiteSpace(file)) return;
        // Each block ends with a blank line, so the next step's summary starts a new block after this one's table.
        var text = GitHubActions.SummaryTable(results, verdict) + string.Concat(session.StepSummary.Select(s => "\n" + s.TrimEnd('\n') + "\n")) + "\n";
        try
        {
            File.AppendAllText(file, session.Console.Redactor.Redact(text));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            session.Console.Line($"Could not write the job summary to {file}: {e.Message}", LogLevel.Warning);
        }
    }

    static List<BuildTarget> Defaults<T>(T build, TargetCatalog catalog, Func<T, Target>[] defaultTargets) =>
        defaultTargets.Select(f => catalog.Of(f(build))
            ?? throw new BuildException("The default target is not a Target property of the build class.")).Distinct().ToList();

    static AbsolutePath? FindRoot(string? start)
    {
        for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, ".nuke")))
                return new AbsolutePath(dir.FullName);
        return null;
    }

    /// <summary>One line for any exception: the message alone for failures meant for users, the type too for
    /// exceptions of the runtime (they read better with it: "IOException: …").</summary>
    internal static string Describe(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        while (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        var message = BuildException.OneLine(e.Message);
        var type = e.GetType();
        return type != typeof(Exception) && type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true
            ? $"{type.Name}: {message}"
            : message;
    }
}
