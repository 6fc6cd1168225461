namespace Delivery.Workflows.Tests;

/// <summary>The generated text, exactly. A change to the generator shows up here as a diff to review.</summary>
public class WorkflowSnapshotTests
{
    [Fact]
    public void Delivery_workflow_from_the_attribute_matches_its_snapshot()
    {
        var definition = GitHubWorkflowAttribute.ReadFrom(typeof(DeliveryBuild), "build/Build.CI.cs").Single();

        Snapshot.AssertMatches("delivery.yml", WorkflowGenerator.Generate(definition));
    }

    [Fact]
    public void Customised_attribute_matches_its_snapshot()
    {
        var definition = GitHubWorkflowAttribute.ReadFrom(typeof(TrunkBuild)).Single();

        Snapshot.AssertMatches("trunk-pipeline.yml", WorkflowGenerator.Generate(definition));
    }

    [Fact]
    public void Definition_built_in_code_matches_its_snapshot()
    {
        var definition = new WorkflowDefinition
        {
            Name = "minimal",
            Parameters = [WorkflowParameter.Secret("DeployKey")],
            StagingUrl = "https://staging.example.com",
            Source = "a WorkflowDefinition in tests/Delivery.Workflows.Tests",
        };

        Snapshot.AssertMatches("minimal.yml", WorkflowGenerator.Generate(definition));
    }

    [Fact]
    public void Generating_twice_gives_the_same_LF_only_text()
    {
        var definition = GitHubWorkflowAttribute.ReadFrom(typeof(DeliveryBuild)).Single();

        var first = WorkflowGenerator.Generate(definition);
        var second = WorkflowGenerator.Generate(definition with { });

        Assert.Equal(first, second);
        Assert.DoesNotContain('\r', first);
        Assert.EndsWith("\n", first);
        Assert.DoesNotContain("\n\n\n", first);
    }
}

static class Snapshot
{
    public static void AssertMatches(string name, string actual)
    {
        var expectedPath = Path.Combine(AppContext.BaseDirectory, "Snapshots", name);
        var expected = File.Exists(expectedPath) ? WorkflowFile.NormaliseLineEndings(File.ReadAllText(expectedPath)) : "";
        if (expected == actual) return;

        // Leave the new text somewhere a developer can inspect it and, once reviewed, copy it over the snapshot.
        var receivedPath = Path.Combine(Path.GetTempPath(), "delivery-workflows-received", name);
        Directory.CreateDirectory(Path.GetDirectoryName(receivedPath)!);
        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"Generated {name} differs from Snapshots/{name} (generated text: {receivedPath}):\n"
            + LineDiff.Unified(expected, actual, $"Snapshots/{name}", "generated"));
    }
}
