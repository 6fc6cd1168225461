using BuildGraph;

namespace BuildGraph.Tests;

public sealed class SkipTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Delivery : BuildBase
    {
        [Parameter("Deploy from CI only")] readonly bool Ci;
        bool publishWanted = true;

        Target Restore => _ => _.Executes(() => { });
        Target Compile => _ => _.DependsOn(Restore).Executes(() => { });
        Target Test => _ => _.DependsOn(Compile).Executes(() => { });
        Target Package => _ => _.DependsOn(Compile).Executes(() => { });
        Target Deploy => _ => _.DependsOn(Package, Compile).OnlyWhenStatic(() => Ci).Executes(() => { });
        Target Decide => _ => _.Executes(() => { publishWanted = false; });
        Target Publish => _ => _.DependsOn(Decide).OnlyWhenDynamic(() => publishWanted && !Ci).Executes(() => { });
    }

    [Fact]
    public void A_static_skip_drops_the_dependencies_only_it_needed()
    {
        var run = harness.Run<Delivery>("Test", "Deploy");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Restore", "Compile", "Test"], run.Headers);
        Assert.Equal(
            """
            ── Restore ─────────────────────────────────────────────────────────────────────
            ── Compile ─────────────────────────────────────────────────────────────────────
            ── Test ────────────────────────────────────────────────────────────────────────

            ╭─────────┬───────────┬──────────┬───────────────────────────────╮
            │ Target  │ Status    │ Duration │ Note                          │
            ├─────────┼───────────┼──────────┼───────────────────────────────┤
            │ Restore │ Succeeded │ 0.0s     │                               │
            │ Compile │ Succeeded │ 0.0s     │                               │
            │ Test    │ Succeeded │ 0.0s     │                               │
            │ Package │ Skipped   │          │ Needed only by skipped Deploy │
            │ Deploy  │ Skipped   │          │ OnlyWhenStatic: Ci            │
            ╰─────────┴───────────┴──────────┴───────────────────────────────╯
            Build succeeded in 0.0s

            """, run.Output);
    }

    [Fact]
    public void When_the_static_condition_holds_everything_runs()
    {
        var run = harness.Run<Delivery>("Test", "Deploy", "--ci");
        Assert.Equal(["Restore", "Compile", "Test", "Package", "Deploy"], run.Headers);
    }

    [Fact]
    public void A_dynamic_condition_is_evaluated_just_before_the_target_runs()
    {
        var run = harness.Run<Delivery>("Publish");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Decide"], run.Headers);
        Assert.Contains("Skipping Publish: OnlyWhenDynamic: publishWanted && !Ci", run.Lines);
        Assert.Equal("Decide:Succeeded, Publish:Skipped", run.Statuses);
        Assert.Equal("OnlyWhenDynamic: publishWanted && !Ci", run.Result.Targets[1].Note);
    }

    [Fact]
    public void Skip_without_names_runs_only_the_invoked_targets()
    {
        var run = harness.Run<Delivery>("Test", "--skip");
        Assert.Equal(["Test"], run.Headers);
        Assert.Equal("Restore:Skipped, Compile:Skipped, Test:Succeeded", run.Statuses);
        Assert.Equal("--skip", run.Result.Targets[0].Note);
    }

    [Fact]
    public void Skip_with_names_skips_those_and_drops_what_only_they_needed()
    {
        var run = harness.Run<Delivery>("Test", "--skip", "Compile");
        Assert.Equal(["Test"], run.Headers);
        Assert.Equal("Restore:Skipped, Compile:Skipped, Test:Succeeded", run.Statuses);
        Assert.Equal("Needed only by skipped Compile", run.Result.Targets[0].Note);
        Assert.Equal("--skip", run.Result.Targets[1].Note);
    }

    [Fact]
    public void Skip_keeps_dependencies_that_another_target_still_needs()
    {
        var run = harness.Run<Delivery>("Test", "Package", "--skip", "Test");
        Assert.Equal(["Restore", "Compile", "Package"], run.Headers);
    }

    [Fact]
    public void Skip_with_an_unknown_name_is_an_error()
    {
        var run = harness.Run<Delivery>("Test", "--skip", "Lint");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Unknown target 'Lint'. Available targets: Compile, Decide, Deploy,", run.Error);
    }

    [Fact]
    public void Skip_can_come_from_the_parameters_file()
    {
        harness.ParametersFile = """{ "$schema": "./build.schema.json", "Skip": ["Restore"] }""";
        Assert.Equal(["Compile"], harness.Run<Delivery>("Compile").Headers);
    }
}
