using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Workflows;

/// <summary>
/// Everything the generator needs to write the CI/CD workflow. Usually made from a <see cref="GitHubWorkflowAttribute"/>
/// on the build class; being a record, it can also be built or adjusted in code with <c>with { ... }</c>.
/// </summary>
public sealed partial record WorkflowDefinition
{
    /// <summary>File name without extension (<c>.github/workflows/{Name}.yml</c>) and the workflow's display name.</summary>
    public required string Name { get; init; }

    /// <summary>Pushes to this branch build, publish the image and deploy to staging; pull requests against it build and test.</summary>
    public string MainBranch { get; init; } = "main";

    /// <summary>GitHub filter patterns for release tags; a pushed tag that matches deploys to production.</summary>
    public IReadOnlyList<string> ReleaseTagPatterns { get; init; } = ["[0-9]+.[0-9]+.[0-9]+"];

    public string BuildScript { get; init; } = "./build.sh";
    public IReadOnlyList<string> BuildTargets { get; init; } = ["Test", "Publish", "DockerBuild", "SmokeTest"];
    public string PushTarget { get; init; } = "Push";

    /// <summary>Run last in the build job: writes the built image to <see cref="ImageArchivePath"/>.</summary>
    public string ExportImageTarget { get; init; } = "ExportImage";

    /// <summary>Run first in the push job: loads the archive and checks its image id against <see cref="BuiltImagePath"/>.</summary>
    public string ImportImageTarget { get; init; } = "ImportImage";
    /// <summary>Run by a release tag instead of a build: finds the image main pushed for the commit (tag
    /// <c>sha-&lt;short&gt;</c>), adds the release tag and writes <see cref="ImageManifestPath"/>.</summary>
    public string PromoteTarget { get; init; } = "PromoteCommitImage";

    /// <summary>The engine's option for how long <see cref="PromoteTarget"/> waits for main's run to push the commit's
    /// image (a tag pushed together with main starts both runs at once); the workflow passes the build job's limit.</summary>
    public string ImageWaitOption { get; init; } = "--image-wait";
    public string StagingTarget { get; init; } = "DeployStaging";
    public string ProductionTarget { get; init; } = "DeployProduction";

    /// <summary>The engine's switch that runs only the named target, not its dependencies (the image was built earlier).</summary>
    public string SkipDependenciesOption { get; init; } = "--skip";

    /// <summary>The engine's option naming the version to promote; production passes the pushed tag.</summary>
    public string PromoteVersionOption { get; init; } = "--promote-version";

    /// <summary>The engine's option for how long a deploy waits for another run's lock on the environment.</summary>
    public string LockWaitOption { get; init; } = "--lock-wait";

    /// <summary>Seconds a deploy job waits for a deploy still running on the same hosts (jobs are never cancelled
    /// mid-deploy, so the other one finishes).</summary>
    public int DeployLockWaitSeconds { get; init; } = 600;

    /// <summary>Build parameters imported from GitHub secrets/variables into every step that runs the build script.</summary>
    public IReadOnlyList<WorkflowParameter> Parameters { get; init; } = [];

    /// <summary>Further variables for the deploy jobs' build step only (where each environment deploys).</summary>
    public IReadOnlyList<WorkflowParameter> DeployParameters { get; init; } = [];

    /// <summary>Variable holding the deploy role assumed through OIDC. Set it on each GitHub environment (staging,
    /// production): a job in an environment reads that environment's value, so each deploy job assumes its own role.</summary>
    public string AwsRoleVariable { get; init; } = "AWS_ROLE_ARN";

    /// <summary>Repository variable holding the push role (ECR only), assumed by the push job.</summary>
    public string AwsPushRoleVariable { get; init; } = "AWS_PUSH_ROLE_ARN";
    public string AwsRegionVariable { get; init; } = "AWS_REGION";

    /// <summary>Shown on the deployment in GitHub; may be an expression. Null leaves the URL out.</summary>
    public string? StagingUrl { get; init; } = "${{ vars.STAGING_URL }}";
    public string? ProductionUrl { get; init; }

    public string RunsOn { get; init; } = "ubuntu-latest";

    /// <summary>Cached between runs, keyed on the project files, central package versions and SDK pin.</summary>
    public IReadOnlyList<string> CachePaths { get; init; } = ["~/.nuget/packages", ".tools", "build/bin", "build/obj"];

    public string TestResultsPath { get; init; } = "artifacts/test-results";

    /// <summary>What Push writes and the deploy jobs read: the pushed image's repository, tags and digest.</summary>
    public string ImageManifestPath { get; init; } = "artifacts/image.json";

    /// <summary>The build job's image handed to the push job: the engine's image export, the record of what was
    /// built (image id, tags, version) and the SBOM.</summary>
    public string ImageArchivePath { get; init; } = "artifacts/image.tar";
    public string BuiltImagePath { get; init; } = "artifacts/image-build.json";
    public string SbomPath { get; init; } = "artifacts/sbom.cdx.json";

    /// <summary>A newer run for the same pull request cancels the older one; runs on the main branch and tags are never cancelled.</summary>
    public bool CancelSupersededPullRequestRuns { get; init; } = true;

    public int BuildTimeoutMinutes { get; init; } = 45;
    /// <summary>A deploy job's limit. It must hold the lock wait plus a fleet's sized lifetimes (waves × (health +
    /// bake + margin) + SSM's delivery slack), which the build checks before sending; 60 fits six instances one at a
    /// time with a 120 s bake.</summary>
    public int DeployTimeoutMinutes { get; init; } = 60;

    /// <summary>Named in the header comment as the source of truth for the file.</summary>
    public string Source { get; init; } = "the [GitHubWorkflow] attribute on the build class";

    public string RegenerateCommand { get; init; } = "./build.sh GenerateWorkflow";

    /// <summary>Where jobs download the artifacts to: the folder of <see cref="ImageManifestPath"/>.</summary>
    public string ArtifactsFolder => ImageManifestPath.Contains('/') ? ImageManifestPath[..ImageManifestPath.LastIndexOf('/')] : "";

    /// <summary>Path relative to the repository root, with forward slashes.</summary>
    public string RelativePath => $".github/workflows/{Name}.yml";

    public void Validate()
    {
        Require(Name, FileName(), "Name", "letters, digits, '.', '_' or '-', such as 'delivery'");
        Require(MainBranch, GitRefName(), "MainBranch", "a branch name such as 'main'");
        if (ReleaseTagPatterns.Count == 0)
            throw new DeliveryException("Workflow ReleaseTagPatterns is empty: give at least one tag filter such as '[0-9]+.[0-9]+.[0-9]+'.");
        foreach (var pattern in ReleaseTagPatterns)
            Require(pattern, TagPattern(), "ReleaseTagPatterns", "a GitHub tag filter such as '[0-9]+.[0-9]+.[0-9]+'");
        Require(BuildScript, ScriptPath(), "BuildScript", "a relative path such as './build.sh'");
        if (BuildTargets.Count == 0)
            throw new DeliveryException("Workflow BuildTargets is empty: name the targets the build job runs, such as 'Test'.");
        foreach (var target in BuildTargets.Append(PushTarget).Append(ExportImageTarget).Append(ImportImageTarget).Append(PromoteTarget).Append(StagingTarget).Append(ProductionTarget))
            Require(target, TargetName(), "target", "a target name such as 'DockerBuild'");
        Require(SkipDependenciesOption, Option(), "SkipDependenciesOption", "an option such as '--skip'");
        Require(PromoteVersionOption, Option(), "PromoteVersionOption", "an option such as '--promote-version'");
        Require(LockWaitOption, Option(), "LockWaitOption", "an option such as '--lock-wait'");
        Require(ImageWaitOption, Option(), "ImageWaitOption", "an option such as '--image-wait'");
        if (DeployLockWaitSeconds < 0)
            throw new DeliveryException($"Workflow DeployLockWaitSeconds must be 0 or more, not {DeployLockWaitSeconds}.");
        Require(AwsRoleVariable, GitHubName(), "AwsRoleVariable", "a GitHub variable name such as 'AWS_ROLE_ARN'");
        Require(AwsPushRoleVariable, GitHubName(), "AwsPushRoleVariable", "a GitHub variable name such as 'AWS_PUSH_ROLE_ARN'");
        Require(AwsRegionVariable, GitHubName(), "AwsRegionVariable", "a GitHub variable name such as 'AWS_REGION'");
        Require(RunsOn, RunnerLabel(), "RunsOn", "a runner label such as 'ubuntu-latest'");
        if (CachePaths.Count == 0)
            throw new DeliveryException("Workflow CachePaths is empty: give at least '~/.nuget/packages'.");
        foreach (var path in CachePaths.Append(TestResultsPath).Append(ImageManifestPath).Append(ImageArchivePath).Append(BuiltImagePath).Append(SbomPath))
            Require(path, PathText(), "path", "a path without spaces, quotes or line breaks");
        if (!ImageManifestPath.Contains('/'))
            throw new DeliveryException($"Workflow ImageManifestPath '{ImageManifestPath}' must sit in a folder (such as 'artifacts/image.json') that the deploy jobs download into.");
        foreach (var (name, path) in new[] { ("ImageManifestPath", ImageManifestPath), ("ImageArchivePath", ImageArchivePath), ("BuiltImagePath", BuiltImagePath), ("SbomPath", SbomPath) })
            if (!path.StartsWith(ArtifactsFolder + "/", StringComparison.Ordinal))
                throw new DeliveryException($"Workflow {name} '{path}' must sit in the folder of ImageManifestPath ('{ArtifactsFolder}'), which later jobs download into.");
        if (BuildTimeoutMinutes <= 0 || DeployTimeoutMinutes <= 0)
            throw new DeliveryException("Workflow timeouts must be positive numbers of minutes.");
        if (StagingUrl is { } stagingUrl) Require(stagingUrl, Url(), "StagingUrl", "an https URL or an expression such as '${{ vars.STAGING_URL }}'");
        if (ProductionUrl is { } productionUrl) Require(productionUrl, Url(), "ProductionUrl", "an https URL or an expression such as '${{ vars.PRODUCTION_URL }}'");

        // Both end up in the header comment; a line break would turn the rest into YAML.
        if (string.IsNullOrWhiteSpace(Source) || Source.IndexOfAny(['\r', '\n']) >= 0)
            throw new DeliveryException("Workflow Source must be one non-empty line, such as 'the [GitHubWorkflow] attribute in build/Build.CI.cs'.");
        if (string.IsNullOrWhiteSpace(RegenerateCommand) || RegenerateCommand.IndexOfAny(['\r', '\n']) >= 0)
            throw new DeliveryException("Workflow RegenerateCommand must be one non-empty line, such as './build.sh GenerateWorkflow'.");

        foreach (var parameter in Parameters.Concat(DeployParameters)) parameter.Validate();
        var clash = Parameters.Concat(DeployParameters).GroupBy(p => p.EnvironmentName).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new DeliveryException($"Workflow parameters {string.Join(" and ", clash.Select(p => p.Name))} both map to environment variable {clash.Key}.");
    }

    static void Require(string? value, Regex shape, string what, string expected)
    {
        if (value is null || !shape.IsMatch(value))
            throw new DeliveryException($"Workflow {what} '{value}' is not valid: expected {expected}.");
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._-]*$")]
    private static partial Regex FileName();
    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")]
    private static partial Regex GitRefName();
    [GeneratedRegex(@"^[A-Za-z0-9_.+*?\[\]!/-]+$")]
    private static partial Regex TagPattern();
    [GeneratedRegex(@"^\.?/?[A-Za-z0-9_][A-Za-z0-9._/-]*$")]
    private static partial Regex ScriptPath();
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9]*$")]
    private static partial Regex TargetName();
    [GeneratedRegex(@"^--?[A-Za-z][A-Za-z0-9-]*$")]
    private static partial Regex Option();
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex GitHubName();
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex RunnerLabel();
    [GeneratedRegex(@"^[A-Za-z0-9_.~/*-][A-Za-z0-9_.~/*@+-]*$")]
    private static partial Regex PathText();
    [GeneratedRegex(@"^(https?://[^\s'""]+|\$\{\{ [A-Za-z0-9_.]+ \}\})$")]
    private static partial Regex Url();
}
