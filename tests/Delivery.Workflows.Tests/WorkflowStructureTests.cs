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

    static readonly string MainPush = "github.ref == 'refs/heads/main' && github.event_name == 'push'";

    static string[] Needs(string job) =>
        Map(Root, "jobs", job)["needs"] is YamlScalarNode single ? [single.Value!] : List(Root, "jobs", job, "needs");

    [Fact]
    public void The_jobs_are_build_push_staging_promote_and_production_in_that_order()
    {
        Assert.Equal(["build", "push", "deploy-staging", "promote", "deploy-production"], Map(Root, "jobs").Children.Keys.Select(k => k.ToString()));
    }

    [Fact]
    public void A_release_tag_builds_nothing_and_promotes_main_s_image_of_the_commit_once_through_staging()
    {
        Assert.Equal("!startsWith(github.ref, 'refs/tags/')", Scalar(Root, "jobs", "build", "if"));
        var promote = Map(Root, "jobs", "promote");
        Assert.Equal("github.event_name == 'push' && startsWith(github.ref, 'refs/tags/')", Scalar(promote, "if"));
        Assert.False(promote.Children.ContainsKey("needs"));
        Assert.Equal("${{ vars.AWS_PUSH_ROLE_ARN }}", Scalar(Step("promote", "aws-actions/configure-aws-credentials@v4"), "with", "role-to-assume"));
        // It waits up to the build job's limit for main's run of the same commit, and its own limit holds that wait.
        Assert.Equal("exec ./build.sh PromoteCommitImage --image-wait 2700", Scalar(Steps("promote").Single(s => s.Children.ContainsKey("run")), "run"));
        Assert.True(int.Parse(Scalar(promote, "timeout-minutes")) * 60 > 2700);
        Assert.Equal("image", Scalar(Step("promote", "actions/upload-artifact@v4"), "with", "name"));
        Assert.DoesNotContain(Steps("promote"), s => s.Children.ContainsKey("uses") && Scalar(s, "uses").StartsWith("actions/download-artifact", StringComparison.Ordinal));
        // One staging deploy per commit: main's run, never the tag's.
        Assert.Equal(MainPush, Scalar(Root, "jobs", "deploy-staging", "if"));
    }

    [Fact]
    public void Workflow_permissions_are_read_only_and_only_push_and_deploy_jobs_get_an_id_token()
    {
        var workflowPermissions = Map(Root, "permissions");
        Assert.Equal("read", Scalar(workflowPermissions, "contents"));
        Assert.Single(workflowPermissions.Children);

        var build = Map(Root, "jobs", "build", "permissions");
        Assert.Equal("read", Scalar(build, "contents"));
        Assert.Single(build.Children);
        foreach (var job in new[] { "push", "deploy-staging", "promote", "deploy-production" })
        {
            Assert.Equal("write", Scalar(Root, "jobs", job, "permissions", "id-token"));
            Assert.Equal("read", Scalar(Root, "jobs", job, "permissions", "contents"));
        }
    }

    [Fact]
    public void The_build_job_references_no_secret_no_id_token_and_installs_nothing_by_hand()
    {
        var build = Map(Root, "jobs", "build");
        var text = string.Join("\n", build.AllNodes.OfType<YamlScalarNode>().Select(n => n.Value));

        Assert.DoesNotContain("secrets.", text);
        Assert.DoesNotContain("id-token", text);
        Assert.DoesNotContain("apt-get", text);
        Assert.DoesNotContain("sudo", text);
        Assert.DoesNotContain(Steps("build"), s => s.Children.ContainsKey("uses") && Scalar(s, "uses").StartsWith("aws-actions/", StringComparison.Ordinal));
        Assert.DoesNotContain("apt-get", Text);
    }

    [Fact]
    public void Build_job_checks_out_full_history_caches_on_project_files_and_runs_the_build_targets_and_the_export()
    {
        Assert.Equal("0", Scalar(Step("build", "actions/checkout@v4"), "with", "fetch-depth"));
        Assert.Equal("global.json", Scalar(Step("build", "actions/setup-dotnet@v4"), "with", "global-json-file"));
        var cacheKey = Scalar(Step("build", "actions/cache@v4"), "with", "key");
        Assert.Contains("hashFiles('**/*.csproj', 'Directory.Packages.props', 'global.json')", cacheKey);

        var runs = Steps("build").Where(s => s.Children.ContainsKey("run")).Select(s => Scalar(s, "run")).ToList();
        Assert.Equal(["exec ./build.sh Test Publish DockerBuild SmokeTest ExportImage"], runs);
    }

    [Fact]
    public void The_image_artifact_is_produced_by_build_and_consumed_by_push()
    {
        var uploads = Steps("build").Where(s => s.Children.ContainsKey("uses") && Scalar(s, "uses") == "actions/upload-artifact@v4").ToList();
        var image = uploads.Single(u => Scalar(u, "with", "name") == "built-image");
        Assert.Equal(MainPush, Scalar(image, "if"));
        Assert.Equal("artifacts/image.tar\nartifacts/image-build.json\nartifacts/sbom.cdx.json\n", Scalar(image, "with", "path"));
        Assert.Equal("error", Scalar(image, "with", "if-no-files-found"));
        var testResults = uploads.Single(u => Scalar(u, "with", "name") == "test-results");
        Assert.Equal(("always()", "artifacts/test-results"), (Scalar(testResults, "if"), Scalar(testResults, "with", "path")));

        var steps = Steps("push").ToList();
        var download = Step("push", "actions/download-artifact@v4");
        Assert.Equal(("built-image", "artifacts"), (Scalar(download, "with", "name"), Scalar(download, "with", "path")));
        var run = steps.Single(s => s.Children.ContainsKey("run") && Scalar(s, "run").StartsWith("exec ", StringComparison.Ordinal));
        Assert.Equal("exec ./build.sh ImportImage Push --skip", Scalar(run, "run"));
        Assert.True(steps.IndexOf(download) < steps.IndexOf(run));
    }

    [Fact]
    public void Push_needs_build_runs_only_for_main_signs_in_with_OIDC_and_uploads_the_manifest()
    {
        var job = Map(Root, "jobs", "push");
        Assert.Equal(["build"], Needs("push"));
        Assert.Equal(MainPush, Scalar(job, "if"));

        var steps = Steps("push").ToList();
        var aws = Step("push", "aws-actions/configure-aws-credentials@v4");
        var run = steps.Single(s => s.Children.ContainsKey("run") && Scalar(s, "run").StartsWith("exec ", StringComparison.Ordinal));
        var upload = Step("push", "actions/upload-artifact@v4");
        // The push role (ECR only); each deploy job assumes its environment's own AWS_ROLE_ARN.
        Assert.Equal("${{ vars.AWS_PUSH_ROLE_ARN }}", Scalar(aws, "with", "role-to-assume"));
        Assert.Equal("${{ vars.AWS_ROLE_ARN }}", Scalar(Step("deploy-staging", "aws-actions/configure-aws-credentials@v4"), "with", "role-to-assume"));
        Assert.Equal("${{ vars.AWS_REGION }}", Scalar(aws, "with", "aws-region"));
        Assert.Equal(("image", "artifacts/image.json", "error"), (Scalar(upload, "with", "name"), Scalar(upload, "with", "path"), Scalar(upload, "with", "if-no-files-found")));
        Assert.True(steps.IndexOf(aws) < steps.IndexOf(run) && steps.IndexOf(run) < steps.IndexOf(upload));
    }

    [Fact]
    public void Secrets_reach_only_the_steps_that_push_or_deploy()
    {
        var stepsWithSecrets = Map(Root, "jobs").Children
            .SelectMany(job => ((YamlSequenceNode)((YamlMappingNode)job.Value)["steps"]).Cast<YamlMappingNode>().Select(step => (Job: job.Key.ToString(), Step: step)))
            .Where(s => s.Step.AllNodes.OfType<YamlScalarNode>().Any(n => n.Value!.Contains("secrets.", StringComparison.Ordinal)))
            .Select(s => (s.Job, Scalar(s.Step, "run")))
            .ToList();

        Assert.Equal([
            ("push", "exec ./build.sh ImportImage Push --skip"),
            ("deploy-staging", "exec ./build.sh DeployStaging --skip --lock-wait 600"),
            ("promote", "exec ./build.sh PromoteCommitImage --image-wait 2700"),
            ("deploy-production", "exec ./build.sh DeployProduction --skip --promote-version \"$GITHUB_REF_NAME\" --lock-wait 600"),
        ], stepsWithSecrets);
    }

    [Fact]
    public void Staging_needs_push_deploys_the_downloaded_manifest_and_is_never_cancelled_mid_deploy()
    {
        var job = Map(Root, "jobs", "deploy-staging");

        Assert.Equal(["push"], Needs("deploy-staging"));
        // Main only: a release tag's commit went through staging in main's run.
        Assert.Equal(MainPush, Scalar(job, "if"));
        Assert.Equal("staging", Scalar(job, "environment", "name"));
        Assert.Equal("${{ vars.STAGING_URL }}", Scalar(job, "environment", "url"));
        // Never cancelled mid-deploy (that would SIGKILL the host scripts); a second deploy waits for the hosts' lock.
        Assert.Equal(("deploy-staging", "false"), (Scalar(job, "concurrency", "group"), Scalar(job, "concurrency", "cancel-in-progress")));
        Assert.Equal(("image", "artifacts"), (Scalar(Step("deploy-staging", "actions/download-artifact@v4"), "with", "name"), Scalar(Step("deploy-staging", "actions/download-artifact@v4"), "with", "path")));
        Assert.Equal("exec ./build.sh DeployStaging --skip --lock-wait 600", Scalar(Steps("deploy-staging").Last(), "run"));
    }

    [Fact]
    public void Production_needs_promote_deploys_tags_behind_the_production_environment_and_is_never_cancelled()
    {
        var job = Map(Root, "jobs", "deploy-production");

        Assert.Equal(["promote"], Needs("deploy-production"));
        Assert.Equal("Download the image manifest from the promote job", Scalar(Step("deploy-production", "actions/download-artifact@v4"), "name"));
        Assert.Equal("startsWith(github.ref, 'refs/tags/')", Scalar(job, "if"));
        Assert.Equal("production", Scalar(job, "environment"));
        Assert.Equal(("deploy-production", "false"), (Scalar(job, "concurrency", "group"), Scalar(job, "concurrency", "cancel-in-progress")));
        Assert.Equal("exec ./build.sh DeployProduction --skip --promote-version \"$GITHUB_REF_NAME\" --lock-wait 600", Scalar(Steps("deploy-production").Last(), "run"));
    }

    [Fact]
    public void Parameters_are_imported_by_name_and_the_build_job_gets_only_the_variables()
    {
        Assert.Contains("\n          REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}\n", Text);
        Assert.Contains("\n          AWS_ROLE_ARN: ${{ vars.AWS_ROLE_ARN }}\n", Text);
        Assert.Contains("\n          REGISTRY: ${{ vars.REGISTRY }}\n", Text);

        var scriptSteps = Root.AllNodes.OfType<YamlMappingNode>().Where(m => m.Children.ContainsKey("run") && Scalar(m, "run").StartsWith("exec ./build.sh")).ToList();
        Assert.Equal(5, scriptSteps.Count);
        Assert.Equal(["AWS_ROLE_ARN", "REGISTRY"], Map(scriptSteps[0], "env").Children.Keys.Select(k => k.ToString()));
        Assert.All(scriptSteps.Skip(1), s => Assert.Equal(3, Map(s, "env").Children.Count));
    }

    [Fact]
    public void Actions_are_pinned_to_major_versions()
    {
        var uses = Root.AllNodes.OfType<YamlMappingNode>().Where(m => m.Children.ContainsKey("uses")).Select(m => Scalar(m, "uses")).Distinct().ToList();

        Assert.NotEmpty(uses);
        Assert.All(uses, u => Assert.Matches(new Regex(@"^[a-z-]+/[a-z-]+@v\d+$"), u));
    }

    [Fact]
    public void Every_environment_value_is_a_reference_to_a_secret_or_variable_or_the_job_s_own_token_for_gh()
    {
        var environments = Root.AllNodes.OfType<YamlMappingNode>()
            .SelectMany(m => m.Children.Where(c => c.Key.ToString() == "env").Select(c => (YamlMappingNode)c.Value))
            .SelectMany(env => env.Children)
            .Select(c => (Name: c.Key.ToString(), Value: ((YamlScalarNode)c.Value).Value!))
            .ToList();

        Assert.NotEmpty(environments);
        // The job's own token, scoped by its permissions block, is what gh reads; it is never a literal value either.
        Assert.All(environments, v => Assert.Matches(
            v.Name == "GH_TOKEN" ? new Regex(@"^\$\{\{ github\.token \}\}$") : new Regex(@"^\$\{\{ (secrets|vars)\.[A-Z0-9_]+ \}\}$"), v.Value));
    }

    [Fact]
    public void Without_parameters_the_only_env_is_gh_s_token_for_the_attestation_check()
    {
        var root = Parse(WorkflowGenerator.Generate(new WorkflowDefinition { Name = "plain" }));

        var environments = root.AllNodes.OfType<YamlMappingNode>()
            .SelectMany(m => m.Children.Where(c => c.Key.ToString() == "env").Select(c => (YamlMappingNode)c.Value))
            .SelectMany(env => env.Children.Keys.Select(k => k.ToString()))
            .ToList();
        Assert.Equal(["GH_TOKEN", "GH_TOKEN"], environments);
    }

    [Fact]
    public void Only_the_push_job_may_write_attestations_and_it_attests_the_pushed_digest()
    {
        var jobs = Map(Root, "jobs");
        var writers = jobs.Children.Where(j => ((YamlMappingNode)j.Value).Children.ContainsKey("permissions")
                && ((YamlMappingNode)((YamlMappingNode)j.Value)["permissions"]).Children.TryGetValue("attestations", out var level) && level.ToString() == "write")
            .Select(j => j.Key.ToString());
        Assert.Equal(["push"], writers);
        Assert.Equal("write", Scalar(Map(Root, "jobs", "push"), "permissions", "id-token"));
        Assert.DoesNotContain("attestations", Map(Root, "permissions").Children.Keys.Select(k => k.ToString()));

        var push = Steps("push").ToList();
        var attest = push.FindIndex(s => s.Children.ContainsKey("uses") && Scalar(s, "uses") == "actions/attest-build-provenance@v2");
        var pushed = push.FindIndex(s => s.Children.ContainsKey("run") && Scalar(s, "run").Contains(" Push "));
        Assert.True(pushed >= 0 && attest > pushed, "the attestation follows the push");
        Assert.Equal("${{ steps.pushed.outputs.digest }}", Scalar(push[attest], "with", "subject-digest"));
    }

    [Theory]
    [InlineData("deploy-staging", "DeployStaging")]
    [InlineData("deploy-production", "DeployProduction")]
    public void Deploy_jobs_verify_the_attestation_before_the_build_sends_any_command(string job, string target)
    {
        var steps = Steps(job).ToList();
        var verify = steps.FindIndex(s => s.Children.ContainsKey("run") && Scalar(s, "run").Contains("gh attestation verify"));
        var deploy = steps.FindIndex(s => s.Children.ContainsKey("run") && Scalar(s, "run").StartsWith($"exec ./build.sh {target} "));

        Assert.True(verify >= 0 && deploy > verify, $"{job}: verify at {verify}, deploy at {deploy}");
        Assert.Contains("gh attestation verify \"oci://$repository@$digest\" --repo \"$GITHUB_REPOSITORY\" --signer-workflow \"$GITHUB_REPOSITORY/.github/workflows/delivery.yml\"",
            Scalar(steps[verify], "run"));
        Assert.Equal("read", Scalar(Map(Root, "jobs", job), "permissions", "attestations"));
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
