using System.Text.RegularExpressions;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>--plan prints the order and writes artifacts/plan.mmd; in the clone, so this repository's artifacts/ stays as it is.</summary>
[Collection(CloneCollection.Name)]
public sealed partial class PlanTests(CloneFixture clone) : CloneTests(clone)
{
    [GeneratedRegex(@"^\s+(?<number>\d+)\. (?<name>\w+)(?:\s+skipped \((?<reason>.+)\))?$")]
    private static partial Regex StepLine();

    static IReadOnlyList<(int Number, string Name, string? Skipped)> Steps(BuildRun run) =>
        run.OutputLines.Select(l => StepLine().Match(l)).Where(m => m.Success)
            .Select(m => (int.Parse(m.Groups["number"].Value), m.Groups["name"].Value, m.Groups["reason"].Success ? m.Groups["reason"].Value : null))
            .ToList();

    [Fact]
    public async Task Plan_prints_the_execution_order_and_runs_nothing()
    {
        var run = await Clone.BuildAsync("--plan", "DeployStaging");

        BuildAssert.Succeeded(run);
        Assert.Equal("", run.StandardError);
        Assert.Equal("Execution plan for DeployStaging:", run.OutputLines.First());
        var steps = Steps(run);
        Assert.Equal(Enumerable.Range(1, steps.Count), steps.Select(s => s.Number));
        Assert.All(steps, s => Assert.Null(s.Skipped));
        var order = steps.Select(s => s.Name).ToList();
        Assert.Equal(order.Count, order.Distinct().Count());
        Assert.Equal("DeployStaging", order[^1]);
        // Every dependency comes before what depends on it.
        (string Before, string After)[] edges =
        [
            ("Restore", "Publish"), ("Version", "Publish"), ("Publish", "DockerBuild"), ("Prerequisites", "DockerBuild"),
            ("DockerBuild", "SmokeTest"), ("SmokeTest", "Push"), ("Push", "DeployStaging"), ("ConfigureHost", "DeployStaging"),
        ];
        foreach (var (before, after) in edges)
        {
            Assert.Contains(before, order);
            Assert.True(order.IndexOf(before) < order.IndexOf(after), $"{before} should run before {after}: {string.Join(", ", order)}");
        }
        // Nothing ran: no target header, no summary table.
        Assert.DoesNotContain(run.OutputLines, l => l.StartsWith("──", StringComparison.Ordinal) || l.StartsWith("Build ", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(Root, "artifacts", "image.json")));
    }

    [Fact]
    public async Task Plan_writes_a_mermaid_flowchart_to_artifacts()
    {
        var graph = Path.Combine(Root, "artifacts", "plan.mmd");
        Assert.False(File.Exists(graph));

        var run = await Clone.BuildAsync("--plan", "DeployStaging");

        BuildAssert.Succeeded(run);
        Assert.Equal($"Graph: {graph}", run.OutputLines.Last());
        var text = await File.ReadAllTextAsync(graph);
        Assert.Matches(@"^(flowchart|graph) (LR|TD|TB)\n", text);
        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("Push --> DeployStaging", lines);
        Assert.Contains("Restore --> Publish", lines);
        Assert.Contains("SmokeTest --> Push", lines);
        var planned = lines.Single(l => l.StartsWith("class ", StringComparison.Ordinal) && l.EndsWith(" planned", StringComparison.Ordinal));
        Assert.Equal(Steps(run).Select(s => s.Name).Order(), planned["class ".Length..^" planned".Length].Split(',').Order());
    }

    [Fact]
    public async Task Plan_with_skip_marks_every_other_target_skipped()
    {
        var run = await Clone.BuildAsync("--plan", "Push", "--skip");

        BuildAssert.Succeeded(run);
        var steps = Steps(run);
        Assert.Equal("Push", steps[^1].Name);
        Assert.Null(steps[^1].Skipped);
        Assert.All(steps.SkipLast(1), s => Assert.Equal("--skip", s.Skipped));
    }
}
