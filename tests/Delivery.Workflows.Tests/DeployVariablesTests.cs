using YamlDotNet.RepresentationModel;

namespace Delivery.Workflows.Tests;

[GitHubWorkflow("delivery",
    ImportSecrets = ["RegistryPassword"],
    DeployVariables = ["StagingTargets", "ProductionTargets", "AwsRegion"])]
sealed class SsmDeliveryBuild;

/// <summary>The deploy jobs reach EC2 through SSM: their build step, and only theirs, reads the targets.</summary>
public class DeployVariablesTests
{
    static readonly YamlMappingNode Root = Parse(WorkflowGenerator.Generate(GitHubWorkflowAttribute.ReadFrom(typeof(SsmDeliveryBuild)).Single()));

    static YamlMappingNode Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    static IEnumerable<IReadOnlyDictionary<string, string>> RunEnvironments(string job) =>
        ((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)Root["jobs"])[job])["steps"]).Cast<YamlMappingNode>()
        .Where(s => s.Children.ContainsKey("run") && s.Children.ContainsKey("env") && ((YamlScalarNode)s["run"]).Value!.StartsWith("exec ", StringComparison.Ordinal))
        .Select(s => (IReadOnlyDictionary<string, string>)((YamlMappingNode)s["env"]).Children
            .ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!));

    [Theory]
    [InlineData("deploy-staging")]
    [InlineData("deploy-production")]
    public void Deploy_jobs_read_the_targets_and_region_from_variables(string job)
    {
        var env = RunEnvironments(job).Single();

        Assert.Equal("${{ vars.STAGING_TARGETS }}", env["STAGING_TARGETS"]);
        Assert.Equal("${{ vars.PRODUCTION_TARGETS }}", env["PRODUCTION_TARGETS"]);
        Assert.Equal("${{ vars.AWS_REGION }}", env["AWS_REGION"]);
        Assert.Equal("${{ secrets.REGISTRY_PASSWORD }}", env["REGISTRY_PASSWORD"]);
    }

    [Fact]
    public void The_build_job_does_not_see_the_targets()
    {
        Assert.All(RunEnvironments("build"), env => Assert.DoesNotContain("STAGING_TARGETS", env.Keys));
    }
}
