using Delivery.Core;

namespace Delivery.Workflows.Tests;

/// <summary>Parameters, the attribute and validation of what the build declares.</summary>
public class WorkflowDeclarationTests
{
    [Theory]
    [InlineData("AwsRoleArn", "AWS_ROLE_ARN")]
    [InlineData("RegistryPassword", "REGISTRY_PASSWORD")]
    [InlineData("ECRRegistry", "ECR_REGISTRY")]
    [InlineData("Ec2Host", "EC2_HOST")]
    [InlineData("registry", "REGISTRY")]
    [InlineData("sshKey", "SSH_KEY")]
    [InlineData("Aws_Region", "AWS_REGION")]
    public void Parameter_names_map_to_upper_snake_case_environment_names(string parameter, string environment) =>
        Assert.Equal(environment, WorkflowParameter.ToEnvironmentName(parameter));

    [Fact]
    public void Secrets_and_variables_are_referenced_through_their_own_contexts()
    {
        Assert.Equal("${{ secrets.REGISTRY_PASSWORD }}", WorkflowParameter.Secret("RegistryPassword").Expression);
        Assert.Equal("${{ vars.AWS_ROLE_ARN }}", WorkflowParameter.Variable("AwsRoleArn").Expression);
    }

    [Theory]
    [InlineData("Registry-Password", "not valid")]
    [InlineData("", "not valid")]
    [InlineData("1Password", "not valid")]
    [InlineData("GithubToken", "GITHUB_")]
    public void Bad_parameter_names_are_refused_with_one_line(string name, string expected)
    {
        var definition = new WorkflowDefinition { Name = "ci", Parameters = [WorkflowParameter.Secret(name)] };

        var error = Assert.Throws<DeliveryException>(() => WorkflowGenerator.Generate(definition));

        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Two_parameters_with_the_same_environment_name_are_refused()
    {
        var definition = new WorkflowDefinition { Name = "ci", Parameters = [WorkflowParameter.Variable("AwsRegion"), WorkflowParameter.Secret("AWSRegion")] };

        var error = Assert.Throws<DeliveryException>(() => WorkflowGenerator.Generate(definition));

        Assert.Equal("Workflow parameters AwsRegion and AWSRegion both map to environment variable AWS_REGION.", error.Message);
    }

    public static TheoryData<string, WorkflowDefinition> BadDefinitions => new()
    {
        { "Name", new WorkflowDefinition { Name = "my workflow" } },
        { "MainBranch", new WorkflowDefinition { Name = "ci", MainBranch = "" } },
        { "ReleaseTagPatterns", new WorkflowDefinition { Name = "ci", ReleaseTagPatterns = [] } },
        { "ReleaseTagPatterns", new WorkflowDefinition { Name = "ci", ReleaseTagPatterns = ["1.0 # x"] } },
        { "BuildTargets", new WorkflowDefinition { Name = "ci", BuildTargets = [] } },
        { "target", new WorkflowDefinition { Name = "ci", StagingTarget = "Deploy; curl evil" } },
        { "target", new WorkflowDefinition { Name = "ci", ExportImageTarget = "Export && curl evil" } },
        { "path", new WorkflowDefinition { Name = "ci", CachePaths = ["my folder"] } },
        { "ImageManifestPath", new WorkflowDefinition { Name = "ci", ImageManifestPath = "image.json" } },
        { "ImageArchivePath", new WorkflowDefinition { Name = "ci", ImageArchivePath = "elsewhere/image.tar" } },
        { "StagingUrl", new WorkflowDefinition { Name = "ci", StagingUrl = "javascript:alert(1)" } },
        { "timeouts", new WorkflowDefinition { Name = "ci", DeployTimeoutMinutes = 0 } },
        { "AwsRoleVariable", new WorkflowDefinition { Name = "ci", AwsRoleVariable = "aws role" } },
        { "SkipDependenciesOption", new WorkflowDefinition { Name = "ci", SkipDependenciesOption = "skip" } },
        { "Source", new WorkflowDefinition { Name = "ci", Source = "x\njobs: {}" } },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public void Bad_definitions_are_refused_with_a_one_line_message_naming_the_setting(string setting, WorkflowDefinition definition)
    {
        var error = Assert.Throws<DeliveryException>(() => WorkflowGenerator.Generate(definition));

        Assert.Contains(setting, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Attribute_imports_secrets_and_variables_by_parameter_name()
    {
        var definition = GitHubWorkflowAttribute.ReadFrom(typeof(DeliveryBuild)).Single();

        Assert.Equal(
            [WorkflowParameter.Secret("RegistryPassword"), WorkflowParameter.Variable("AwsRoleArn"), WorkflowParameter.Variable("Registry")],
            definition.Parameters);
        Assert.Equal(".github/workflows/delivery.yml", definition.RelativePath);
    }

    [Fact]
    public void Attribute_defaults_are_the_definition_defaults()
    {
        var fromAttribute = new GitHubWorkflowAttribute("ci").ToDefinition();
        var fromRecord = new WorkflowDefinition { Name = "ci" };

        Assert.Equal(WorkflowGenerator.Generate(fromRecord), WorkflowGenerator.Generate(fromAttribute));
    }

    [Fact]
    public void Several_workflows_on_one_build_class_are_read_in_name_order()
    {
        var definitions = GitHubWorkflowAttribute.ReadFrom(typeof(TwoWorkflowsBuild));

        Assert.Equal(["one", "two"], definitions.Select(d => d.Name));
        Assert.Equal("develop", definitions[1].MainBranch);
    }

    [Fact]
    public void A_build_class_without_the_attribute_is_refused()
    {
        var error = Assert.Throws<DeliveryException>(() => GitHubWorkflowAttribute.ReadFrom(typeof(UndecoratedBuild)));

        Assert.Equal("UndecoratedBuild declares no [GitHubWorkflow] attribute, so there is no workflow to generate.", error.Message);
    }

    [Fact]
    public void The_same_workflow_declared_twice_is_refused()
    {
        var error = Assert.Throws<DeliveryException>(() => GitHubWorkflowAttribute.ReadFrom(typeof(DuplicateWorkflowBuild)));

        Assert.Contains("more than once", error.Message);
    }
}
