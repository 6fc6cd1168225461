namespace Delivery.Workflows.Tests;

// Build classes as the build project declares them: the attribute is the whole description of the workflow.

[GitHubWorkflow("delivery",
    ImportSecrets = ["RegistryPassword"],
    ImportVariables = ["AwsRoleArn", "Registry"])]
sealed class DeliveryBuild;

[GitHubWorkflow("trunk-pipeline",
    MainBranch = "trunk",
    ReleaseTagPatterns = ["v[0-9]+.[0-9]+.[0-9]+", "[0-9]+.[0-9]+.[0-9]+"],
    BuildTargets = ["Compile", "Test"],
    StagingUrl = "",
    ProductionUrl = "https://www.example.com",
    CachePaths = ["~/.nuget/packages"],
    AwsRoleVariable = "DEPLOY_ROLE",
    AwsRegionVariable = "DEPLOY_REGION",
    CancelSupersededPullRequestRuns = false,
    BuildTimeoutMinutes = 60,
    DeployTimeoutMinutes = 15)]
sealed class TrunkBuild;

[GitHubWorkflow("one")]
[GitHubWorkflow("two", MainBranch = "develop")]
sealed class TwoWorkflowsBuild;

[GitHubWorkflow("twice")]
[GitHubWorkflow("Twice")]
sealed class DuplicateWorkflowBuild;

sealed class UndecoratedBuild;
