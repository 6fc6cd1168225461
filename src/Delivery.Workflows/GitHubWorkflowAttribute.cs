using System.Reflection;
using Delivery.Core;

namespace Delivery.Workflows;

/// <summary>
/// Declares, on the build class, the GitHub Actions workflow that runs this build. Example:
/// <code>
/// [GitHubWorkflow("delivery",
///     ImportSecrets = [nameof(RegistryPassword)],
///     ImportVariables = [nameof(AwsRoleArn), nameof(Registry)])]
/// partial class Build { ... }
/// </code>
/// Unset properties keep the defaults of <see cref="WorkflowDefinition"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = true)]
public sealed class GitHubWorkflowAttribute(string name) : Attribute
{
    static readonly WorkflowDefinition Defaults = new() { Name = "defaults" };

    public string Name { get; } = name;

    /// <summary>Names of build parameters whose values come from GitHub secrets (AwsSecret → secrets.AWS_SECRET).</summary>
    public string[] ImportSecrets { get; set; } = [];

    /// <summary>Names of build parameters whose values come from GitHub configuration variables (Registry → vars.REGISTRY).</summary>
    public string[] ImportVariables { get; set; } = [];

    /// <summary>Parameters the deploy jobs alone read from repository or environment variables (e.g. the SSM targets).</summary>
    public string[] DeployVariables { get; set; } = [];

    public string MainBranch { get; set; } = Defaults.MainBranch;
    public string[] ReleaseTagPatterns { get; set; } = [.. Defaults.ReleaseTagPatterns];
    public string BuildScript { get; set; } = Defaults.BuildScript;
    public string[] BuildTargets { get; set; } = [.. Defaults.BuildTargets];
    public string PushTarget { get; set; } = Defaults.PushTarget;
    public string ExportImageTarget { get; set; } = Defaults.ExportImageTarget;
    public string ImportImageTarget { get; set; } = Defaults.ImportImageTarget;
    public string StagingTarget { get; set; } = Defaults.StagingTarget;
    public string ProductionTarget { get; set; } = Defaults.ProductionTarget;
    public string SkipDependenciesOption { get; set; } = Defaults.SkipDependenciesOption;
    public string PromoteVersionOption { get; set; } = Defaults.PromoteVersionOption;
    public string AwsRoleVariable { get; set; } = Defaults.AwsRoleVariable;
    public string AwsPushRoleVariable { get; set; } = Defaults.AwsPushRoleVariable;
    public string AwsRegionVariable { get; set; } = Defaults.AwsRegionVariable;

    /// <summary>Empty string leaves the URL out.</summary>
    public string StagingUrl { get; set; } = Defaults.StagingUrl ?? "";

    /// <summary>Empty string (the default) leaves the URL out.</summary>
    public string ProductionUrl { get; set; } = Defaults.ProductionUrl ?? "";

    public string RunsOn { get; set; } = Defaults.RunsOn;
    public string[] CachePaths { get; set; } = [.. Defaults.CachePaths];
    public bool CancelSupersededPullRequestRuns { get; set; } = Defaults.CancelSupersededPullRequestRuns;
    public int BuildTimeoutMinutes { get; set; } = Defaults.BuildTimeoutMinutes;
    public int DeployTimeoutMinutes { get; set; } = Defaults.DeployTimeoutMinutes;

    /// <param name="source">Named in the file's header as where to change it, e.g. "build/Build.CI.cs".</param>
    public WorkflowDefinition ToDefinition(string? source = null) => new()
    {
        Name = Name,
        MainBranch = MainBranch,
        ReleaseTagPatterns = ReleaseTagPatterns,
        BuildScript = BuildScript,
        BuildTargets = BuildTargets,
        PushTarget = PushTarget,
        ExportImageTarget = ExportImageTarget,
        ImportImageTarget = ImportImageTarget,
        StagingTarget = StagingTarget,
        ProductionTarget = ProductionTarget,
        SkipDependenciesOption = SkipDependenciesOption,
        PromoteVersionOption = PromoteVersionOption,
        Parameters = [.. ImportSecrets.Select(WorkflowParameter.Secret), .. ImportVariables.Select(WorkflowParameter.Variable)],
        DeployParameters = [.. DeployVariables.Select(WorkflowParameter.Variable)],
        AwsRoleVariable = AwsRoleVariable,
        AwsPushRoleVariable = AwsPushRoleVariable,
        AwsRegionVariable = AwsRegionVariable,
        StagingUrl = StagingUrl.Length == 0 ? null : StagingUrl,
        ProductionUrl = ProductionUrl.Length == 0 ? null : ProductionUrl,
        RunsOn = RunsOn,
        CachePaths = CachePaths,
        CancelSupersededPullRequestRuns = CancelSupersededPullRequestRuns,
        BuildTimeoutMinutes = BuildTimeoutMinutes,
        DeployTimeoutMinutes = DeployTimeoutMinutes,
        Source = source is null ? Defaults.Source : $"the [GitHubWorkflow] attribute in {source}",
    };

    /// <summary>The workflows declared on a build class, ordered by name (reflection gives no stable order).</summary>
    public static IReadOnlyList<WorkflowDefinition> ReadFrom(Type buildType, string? source = null)
    {
        var attributes = buildType.GetCustomAttributes<GitHubWorkflowAttribute>(inherit: true).ToList();
        if (attributes.Count == 0)
            throw new DeliveryException($"{buildType.Name} declares no [GitHubWorkflow] attribute, so there is no workflow to generate.");
        var definitions = attributes.Select(a => a.ToDefinition(source)).OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
        var duplicate = definitions.GroupBy(d => d.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new DeliveryException($"{buildType.Name} declares the workflow '{duplicate.Key}' more than once.");
        return definitions;
    }
}
