using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>Every build compares .github/workflows/delivery.yml with what the build class generates.</summary>
[Collection(CloneCollection.Name)]
public sealed class WorkflowStalenessTests(CloneFixture clone) : CloneTests(clone)
{
    const string Appended = "# edited by hand";
    string Workflow => Path.Combine(Root, ".github", "workflows", "delivery.yml");

    async Task<string> EditWorkflowAsync()
    {
        var committed = await File.ReadAllTextAsync(Workflow);
        await File.AppendAllTextAsync(Workflow, Appended + "\n");
        return committed;
    }

    [Theory]
    [InlineData("CI", "true")]
    [InlineData("CI", "1")]
    [InlineData("GITHUB_ACTIONS", "true")]
    public async Task On_CI_a_stale_workflow_fails_the_build_with_a_diff_and_is_left_as_it_is(string variable, string value)
    {
        await EditWorkflowAsync();
        var edited = await File.ReadAllTextAsync(Workflow);

        var run = await Clone.BuildAsync(new Dictionary<string, string?> { [variable] = value }, "Version");

        var error = BuildAssert.SingleErrorLine(run);
        Assert.Equal($"{Workflow} differs from its declaration in 1 line(s). Run './build.sh GenerateWorkflow' and commit the result.", error);
        var diff = run.OutputLines.ToList();
        Assert.Contains($"--- {Workflow} (on disk)", diff);
        Assert.Contains($"+++ {Workflow} (generated)", diff);
        Assert.Contains("-" + Appended, diff);
        Assert.DoesNotContain(diff, l => l.StartsWith('+') && !l.StartsWith("+++", StringComparison.Ordinal));
        // No target ran, and the file was not touched.
        Assert.Null(run.SummaryStatus("Version"));
        Assert.Equal(edited, await File.ReadAllTextAsync(Workflow));
    }

    [Fact]
    public async Task Locally_a_stale_workflow_is_regenerated_with_a_warning_and_the_build_goes_on()
    {
        var committed = await EditWorkflowAsync();
        Assert.NotEqual("", await Git.PorcelainAsync(Root));

        var run = await Clone.BuildAsync("Version");

        BuildAssert.Succeeded(run);
        var warning = Assert.Single(run.OutputLines, l => l.StartsWith("warning: ", StringComparison.Ordinal));
        Assert.Equal($"warning: {Workflow} differs from its declaration in 1 line(s). Regenerated it; commit the result.", warning);
        Assert.Equal("Succeeded", run.SummaryStatus("Version"));
        Assert.Equal(committed, await File.ReadAllTextAsync(Workflow));
        Assert.Equal("", await Git.PorcelainAsync(Root));
    }

    [Fact]
    public async Task An_up_to_date_workflow_passes_on_CI_without_a_warning()
    {
        var run = await Clone.BuildAsync(new Dictionary<string, string?> { ["CI"] = "true" }, "Version");

        BuildAssert.Succeeded(run);
        Assert.DoesNotContain(run.OutputLines, l => l.StartsWith("warning: ", StringComparison.Ordinal));
    }
}
