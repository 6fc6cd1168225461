using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Delivery.Workflows.Tests;

/// <summary>Reads the generated YAML back with a YAML parser and checks what GitHub will see.</summary>
public class WorkflowStructureTests
{
    static readonly string Text = WorkflowGenerator.Generate(GitHubWorkflowAttribute.ReadFrom(typeof(DeliveryBuild)).Single());
    static readonly YamlMappingNode Root = Parse(Text);

    static YamlMappingNode Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    static YamlMappingNode Map(YamlNode node, params string[] path)
    {
        foreach (var key in path) node = ((YamlMappingNode)node)[key];
        return (YamlMappingNode)node;
    }

    static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path) node = ((YamlMappingNode)node)[key];
        return ((YamlScalarNode)node).Value!;
    }

    static string[] List(YamlNode node, params string[] path)
    {
        foreach (var key in path) node = ((YamlMappingNode)node)[key];
        return ((YamlSequenceNode)node).Select(n => ((YamlScalarNode)n).Value!).ToArray();
    }

    static IEnumerable<YamlMappingNode> Steps(string job) => ((YamlSequenceNode)Map(Root, "jobs", job)["steps"]).Cast<YamlMappingNode>();

    static YamlMappingNode Step(string job, string uses) => Steps(job).Single(s => s.Children.TryGetValue("uses", out var u) && ((YamlScalarNode)u).Value == uses);

    [Fact]
    public void The_on_key_is_a_plain_on_not_a_quoted_string_or_a_boolean()
    {
        var onKey = (YamlScalarNode)Root.Children.Keys.ElementAt(1);

        Assert.Equal("on", onKey.Value);
        Assert.Equal(ScalarStyle.Plain, onKey.Style);
        Assert.Contains("\non:\n", Text);
    }

    [Fact]
    public void Triggers_are_pushes_to_main_release_tags_and_pull_requests()
    {
        Assert.Equal(["main"], ((YamlSequenceNode)Map(Root, "on", "push")["branches"]).Select(n => n.ToString()));
        Assert.Equal(["[0-9]+.[0-9]+.[0-9]+"], ((YamlSequenceNode)Map(Root, "on", "push")["tags"]).Select(n => n.ToString()));
        Assert.Equal(["main"], ((YamlSequenceNode)Map(Root, "on", "pull_request")["branches"]).Select(n => n.ToString()));
    }

    [Fact]
    public void Workflow_permissions_are_read_only_and_only_jobs_that_assume_the_role_get_an_id_token()
    {
        var workflowPermissions = Map(Root, "permissions");
        Assert.Equal("read", Scalar(workflowPermissions, "contents"));
        Assert.Single(workflowPermissions.Children);

        foreach (var job in new[] { "build", "deploy-staging", "deploy-production" })
        {
            Assert.Equal("write", Scalar(Root, "jobs", job, "permissions", "id-token"));
            Assert.Equal("read", Scalar(Root, "jobs", job, "permissions", "contents"));
        }
    }

    [Fact]
    public void Build_job_checks_out_full_history_caches_on_project_files_and_runs_the_build_targets()
    {
        Assert.Equal("0", Scalar(Step("build", "actions/checkout@v4"), "with", "fetch-depth"));
        Assert.Equal("global.json", Scalar(Step("build", "actions/setup-dotnet@v4"), "with", "global-json-file"));
        var cacheKey = Scalar(Step("build", "actions/cache@v4"), "with", "key");
        Assert.Contains("hashFiles('**/*.csproj', 'Directory.Packages.props', 'global.json')", cacheKey);

        var runs = Steps("build").Where(s => s.Children.ContainsKey("run")).Select(s => Scalar(s, "run")).ToList();
        Assert.Equal(["./build.sh Test Publish DockerBuild SmokeTest", "./build.sh Push --skip"], runs);
    }

    [Fact]
    public void Only_pushes_to_main_and_tags_publish_the_image_and_test_results_upload_always()
    {
        var publishing = "github.event_name == 'push' && (github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/'))";
        var steps = Steps("build").ToList();
        var aws = Step("build", "aws-actions/configure-aws-credentials@v4");
        var push = steps.Single(s => s.Children.ContainsKey("run") && Scalar(s, "run").Contains("Push"));
        var uploads = steps.Where(s => s.Children.ContainsKey("uses") && Scalar(s, "uses") == "actions/upload-artifact@v4").ToList();

        Assert.Equal(publishing, Scalar(aws, "if"));
        Assert.Equal("${{ vars.AWS_ROLE_ARN }}", Scalar(aws, "with", "role-to-assume"));
        Assert.Equal("${{ vars.AWS_REGION }}", Scalar(aws, "with", "aws-region"));
        Assert.Equal(publishing, Scalar(push, "if"));
        Assert.Equal(("always()", "test-results", "artifacts/test-results"), (Scalar(uploads[0], "if"), Scalar(uploads[0], "with", "name"), Scalar(uploads[0], "with", "path")));
        Assert.Equal((publishing, "image", "artifacts/image.json"), (Scalar(uploads[1], "if"), Scalar(uploads[1], "with", "name"), Scalar(uploads[1], "with", "path")));
        Assert.True(steps.IndexOf(aws) < steps.IndexOf(push) && steps.IndexOf(push) < steps.IndexOf(uploads[1]));
    }

    [Fact]
    public void Staging_deploys_the_downloaded_image_from_main_and_a_newer_deploy_cancels_a_queued_one()
    {
        var job = Map(Root, "jobs", "deploy-staging");

        Assert.Equal("build", Scalar(job, "needs"));
        // Release tags go through staging too, so production promotes a digest staging verified.
        Assert.Equal("github.event_name == 'push' && (github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/'))", Scalar(job, "if"));
        Assert.Equal("staging", Scalar(job, "environment", "name"));
        Assert.Equal("${{ vars.STAGING_URL }}", Scalar(job, "environment", "url"));
        Assert.Equal(("deploy-staging", "true"), (Scalar(job, "concurrency", "group"), Scalar(job, "concurrency", "cancel-in-progress")));
        Assert.Equal(("image", "artifacts"), (Scalar(Step("deploy-staging", "actions/download-artifact@v4"), "with", "name"), Scalar(Step("deploy-staging", "actions/download-artifact@v4"), "with", "path")));
        Assert.Equal("./build.sh DeployStaging --skip", Scalar(Steps("deploy-staging").Last(), "run"));
    }

    [Fact]
    public void Production_deploys_tags_behind_the_production_environment_and_is_never_cancelled()
    {
        var job = Map(Root, "jobs", "deploy-production");

        Assert.Equal(["build", "deploy-staging"], List(job, "needs"));
        Assert.Equal("startsWith(github.ref, 'refs/tags/')", Scalar(job, "if"));
        Assert.Equal("production", Scalar(job, "environment"));
        Assert.Equal(("deploy-production", "false"), (Scalar(job, "concurrency", "group"), Scalar(job, "concurrency", "cancel-in-progress")));
        Assert.Equal("./build.sh DeployProduction --skip --release \"$GITHUB_REF_NAME\"", Scalar(Steps("deploy-production").Last(), "run"));
    }

    [Fact]
    public void Parameters_are_imported_by_name_into_each_build_script_step()
    {
        Assert.Contains("\n          REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}\n", Text);
        Assert.Contains("\n          AWS_ROLE_ARN: ${{ vars.AWS_ROLE_ARN }}\n", Text);
        Assert.Contains("\n          REGISTRY: ${{ vars.REGISTRY }}\n", Text);

        var scriptSteps = Root.AllNodes.OfType<YamlMappingNode>().Where(m => m.Children.ContainsKey("run") && Scalar(m, "run").StartsWith("./build.sh")).ToList();
        Assert.Equal(4, scriptSteps.Count);
        Assert.All(scriptSteps, s => Assert.Equal(3, Map(s, "env").Children.Count));
    }

    [Fact]
    public void Every_environment_value_is_a_reference_to_a_secret_or_variable_never_a_value()
    {
        var environments = Root.AllNodes.OfType<YamlMappingNode>()
            .SelectMany(m => m.Children.Where(c => c.Key.ToString() == "env").Select(c => (YamlMappingNode)c.Value))
            .SelectMany(env => env.Children.Values.Cast<YamlScalarNode>())
            .ToList();

        Assert.NotEmpty(environments);
        Assert.All(environments, v => Assert.Matches(new Regex(@"^\$\{\{ (secrets|vars)\.[A-Z0-9_]+ \}\}$"), v.Value!));
    }

    [Fact]
    public void Without_parameters_no_env_blocks_are_written()
    {
        var text = WorkflowGenerator.Generate(new WorkflowDefinition { Name = "plain" });

        Assert.DoesNotContain("env:", text);
    }

    [Fact]
    public void Header_says_the_file_is_generated_by_what_and_how_to_regenerate()
    {
        var header = Text.Split('\n').TakeWhile(l => l.StartsWith('#')).ToList();

        Assert.Contains(header, l => l.Contains("GENERATED FILE"));
        Assert.Contains(header, l => l.Contains("Delivery.Workflows") && l.Contains("[GitHubWorkflow] attribute"));
        Assert.Contains(header, l => l.EndsWith("./build.sh GenerateWorkflow"));
    }
}
