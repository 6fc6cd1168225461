using BuildGraph;

namespace BuildGraph.Tests;

public sealed class OrderingTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Pipeline : BuildBase
    {
        Target Clean => _ => _.Executes(() => { });
        Target Restore => _ => _.After(Clean).Executes(() => { });
        Target Compile => _ => _.DependsOn(Restore).Executes(() => { });
        Target Lint => _ => _.Before(Compile).Executes(() => { });
        Target Test => _ => _.DependsOn(Compile).Executes(() => { });
        Target Pack => _ => _.DependsOn(Compile).After(Test).Executes(() => { });
        Target Publish => _ => _.DependsOn(Pack).Triggers(Announce).Executes(() => { });
        Target Announce => _ => _.Executes(() => { });
        Target Hidden => _ => _.Unlisted().Executes(() => { });

        public static Target Default(Pipeline x) => x.Compile;
    }

    [Fact]
    public void DependsOn_pulls_dependencies_in_and_runs_them_first()
    {
        var run = harness.Run<Pipeline>("Test");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Restore", "Compile", "Test"], run.Headers);
    }

    [Fact]
    public void No_target_runs_the_default()
    {
        var run = harness.Run<Pipeline>([], Pipeline.Default);
        Assert.Equal(["Restore", "Compile"], run.Headers);
    }

    [Fact]
    public void After_orders_but_does_not_pull_in()
    {
        Assert.Equal(["Restore", "Compile", "Pack"], harness.Run<Pipeline>("Pack").Headers);
        Assert.Equal(["Restore", "Compile", "Test", "Pack"], harness.Run<Pipeline>("Pack", "Test").Headers);
        Assert.Equal(["Clean", "Restore", "Compile"], harness.Run<Pipeline>("Compile", "Clean").Headers);
    }

    [Fact]
    public void Before_orders_but_does_not_pull_in()
    {
        Assert.Equal(["Restore", "Compile"], harness.Run<Pipeline>("Compile").Headers);
        Assert.Equal(["Restore", "Lint", "Compile"], harness.Run<Pipeline>("Compile", "Lint").Headers);
    }

    [Fact]
    public void Triggers_pull_in_the_triggered_target_to_run_after()
    {
        var run = harness.Run<Pipeline>("Publish");
        Assert.Equal(["Restore", "Compile", "Pack", "Publish", "Announce"], run.Headers);
    }

    [Fact]
    public void Targets_given_with_the_target_option_and_in_any_case()
    {
        Assert.Equal(["Clean", "Restore"], harness.Run<Pipeline>("--target", "restore", "CLEAN").Headers);
    }

    [Fact]
    public void Targets_can_come_from_the_parameters_file_when_none_are_given()
    {
        harness.ParametersFile = """{ "$schema": "./build.schema.json", "Target": ["Lint", "Restore"] }""";
        Assert.Equal(["Lint", "Restore"], harness.Run<Pipeline>([], Pipeline.Default).Headers);
        Assert.Equal(["Clean"], harness.Run<Pipeline>("Clean").Headers);
    }

    [Fact]
    public void Unknown_target_is_one_line_listing_the_available_ones()
    {
        var run = harness.Run<Pipeline>("Compile", "Deploy");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Unknown target 'Deploy'. Available targets: Announce, Clean, Compile, Lint, Pack, Publish, Restore, Test\n", run.Error);
        Assert.Empty(run.Result.Targets);
    }

    [Fact]
    public void Unlisted_targets_can_still_be_invoked()
    {
        Assert.Equal(["Hidden"], harness.Run<Pipeline>("Hidden").Headers);
    }

    sealed class Circular : BuildBase
    {
        Target A => _ => _.DependsOn(B);
        Target B => _ => _.DependsOn(C);
        Target C => _ => _.DependsOn(A);
        Target D => _ => _.Executes(() => { });
    }

    [Fact]
    public void A_cycle_is_an_error_that_names_it_even_when_not_invoked()
    {
        var run = harness.Run<Circular>("D");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Cycle: A -> B -> C -> A\n", run.Error);
        Assert.Equal("", run.Output);
    }

    sealed class OrderingCycle : BuildBase
    {
        Target Ship => _ => _.After(Verify).Triggers(Report);
        Target Verify => _ => _;
        Target Report => _ => _.Before(Verify);
    }

    [Fact]
    public void Ordering_edges_take_part_in_cycles()
    {
        var run = harness.Run<OrderingCycle>("Ship");
        Assert.Equal("Cycle: Report -> Ship -> Verify -> Report\n", run.Error);
    }

    sealed class Foreign : BuildBase
    {
        static readonly Target Elsewhere = _ => _;
        Target A => _ => _.DependsOn(Elsewhere);
    }

    [Fact]
    public void A_reference_to_something_that_is_not_a_target_property_is_an_error()
    {
        var run = harness.Run<Foreign>("A");
        Assert.Equal("Target A references a target that is not a Target property of this build.\n", run.Error);
    }
}
