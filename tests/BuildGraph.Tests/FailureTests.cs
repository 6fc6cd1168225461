using BuildGraph;

namespace BuildGraph.Tests;

public sealed class FailureTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Failing : BuildBase
    {
        Target Restore => _ => _.Executes(() => { });
        Target Compile => _ => _.DependsOn(Restore).Executes(() => throw new InvalidOperationException("compiler crashed"));
        Target Test => _ => _.DependsOn(Compile).Executes(() => { });
        Target Lint => _ => _.After(Compile).Executes(() => { });
        Target Report => _ => _.After(Compile).ProceedAfterFailure().Executes(() => { });
        Target Coverage => _ => _.DependsOn(Compile).ProceedAfterFailure().Executes(() => { });
        Target Cleanup => _ => _.DependsOn(Compile).AssuredAfterFailure().Executes(() => Log.Information("cleaned up"));
        Target Second => _ => _.Executes(() => { })
            .Executes(async () => { await Task.Yield(); throw new Exception("second action failed"); })
            .Executes(() => Log.Information("never"));
    }

    [Fact]
    public void A_failure_stops_the_run_except_for_proceeding_and_assured_targets()
    {
        var run = harness.Run<Failing>("Test", "Lint", "Report", "Coverage", "Cleanup");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            "Restore:Succeeded, Compile:Failed, Test:NotRun, Lint:NotRun, Report:Succeeded, Coverage:NotRun, Cleanup:Succeeded",
            run.Statuses);
        Assert.Contains("Target Compile failed: InvalidOperationException: compiler crashed", run.Lines);
        Assert.Contains("cleaned up", run.Lines);
        Assert.Equal("Build failed in 0.0s", run.Lines[^1]);
        Assert.DoesNotContain("   at ", run.Output); // no stack trace without --verbose
    }

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        var run = harness.Run<Failing>("Compile", "--verbose");
        Assert.Contains("   at ", run.Output);
    }

    [Fact]
    public void Actions_run_in_order_and_stop_at_the_first_failure()
    {
        var run = harness.Run<Failing>("Second");
        Assert.Equal("Second:Failed", run.Statuses);
        Assert.Contains("Target Second failed: second action failed", run.Lines);
        Assert.DoesNotContain("never", run.Lines);
        Assert.Equal("second action failed", run.Result.Targets[0].Note);
    }

    sealed class Interrupted : BuildBase
    {
        public static CancellationTokenSource? Abort;
        bool cleanupTokenWasLive;

        Target Prepare => _ => _.Executes(() => { });
        Target LongRunning => _ => _.DependsOn(Prepare).Executes(async () =>
        {
            Abort!.Cancel(); // what Ctrl-C does
            await Task.Delay(Timeout.Infinite, CancellationToken);
        });
        Target Next => _ => _.DependsOn(LongRunning).Executes(() => { });
        Target Cleanup => _ => _.After(Next).AssuredAfterFailure().Executes(() =>
        {
            cleanupTokenWasLive = !CancellationToken.IsCancellationRequested;
            Log.Information($"cleanup token live: {cleanupTokenWasLive}");
        });
    }

    [Fact]
    public void Ctrl_C_aborts_the_running_target_and_still_runs_assured_ones()
    {
        Interrupted.Abort = harness.Abort;
        var run = harness.Run<Interrupted>("Next", "Cleanup");
        Assert.Equal(130, run.ExitCode);
        Assert.Equal("Prepare:Succeeded, LongRunning:Aborted, Next:NotRun, Cleanup:Succeeded", run.Statuses);
        Assert.Contains("Target LongRunning aborted", run.Lines);
        Assert.Contains("cleanup token live: True", run.Lines);
        Assert.Equal("Build aborted in 0.0s", run.Lines[^1]);
    }

    sealed class Reporting : BuildBase
    {
        Target Compile => _ => _.Executes(() => ReportSummary("3 projects"));
        Target Test => _ => _.DependsOn(Compile).Executes(() =>
        {
            ReportSummary("Tests: 40 passed, 1 failed, 2 skipped");
            ReportClosingLine("Tests: 40 passed, 1 failed, 2 skipped");
            throw new BuildException("1 test failed");
        });
    }

    [Fact]
    public void The_summary_shows_notes_and_the_closing_line_comes_last()
    {
        var run = harness.Run<Reporting>("Test");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            """
            ── Compile ─────────────────────────────────────────────────────────────────────
            ── Test ────────────────────────────────────────────────────────────────────────
            Target Test failed: 1 test failed

            ╭─────────┬───────────┬──────────┬───────────────────────────────────────╮
            │ Target  │ Status    │ Duration │ Note                                  │
            ├─────────┼───────────┼──────────┼───────────────────────────────────────┤
            │ Compile │ Succeeded │ 0.0s     │ 3 projects                            │
            │ Test    │ Failed    │ 0.0s     │ Tests: 40 passed, 1 failed, 2 skipped │
            ╰─────────┴───────────┴──────────┴───────────────────────────────────────╯
            Build failed in 0.0s
            Tests: 40 passed, 1 failed, 2 skipped

            """, run.Output);
        Assert.Equal("Tests: 40 passed, 1 failed, 2 skipped", run.Result.ClosingLine);
    }
}
