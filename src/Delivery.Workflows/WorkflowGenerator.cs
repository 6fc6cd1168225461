using System.Text;
using Delivery.Workflows.Yaml;
using static Delivery.Workflows.WorkflowExpressions;

namespace Delivery.Workflows;

/// <summary>
/// Turns a <see cref="WorkflowDefinition"/> into the workflow file's text. Five jobs, each with the least it needs:
/// <c>build</c> (pushes to main and pull requests: compile, test, build and smoke-test the image, export it; contents:
/// read, no ID token, no secret), <c>push</c> (main: load the exported image, check its id, sign in with OIDC, push,
/// attest), <c>deploy-staging</c> (main), <c>promote</c> (release tags: no build; main's image of the commit, found by
/// its <c>sha-</c> tag, gets the release tag) and <c>deploy-production</c> (release tags, behind the production
/// environment's reviewers). One build per commit, one staging deploy per commit, deploy the pushed digest.
/// </summary>
public static class WorkflowGenerator
{
    const string Checkout = "actions/checkout@v4";
    const string SetupDotnet = "actions/setup-dotnet@v4";
    const string Cache = "actions/cache@v4";
    const string UploadArtifact = "actions/upload-artifact@v4";
    const string DownloadArtifact = "actions/download-artifact@v4";
    const string ConfigureAwsCredentials = "aws-actions/configure-aws-credentials@v4";
    const string AttestBuildProvenance = "actions/attest-build-provenance@v2";

    public const string BuildJob = "build";
    public const string PushJob = "push";
    public const string PromoteJob = "promote";
    public const string StagingJob = "deploy-staging";
    public const string ProductionJob = "deploy-production";
    public const string ImageArtifact = "image";
    public const string BuiltImageArtifact = "built-image";
    public const string TestResultsArtifact = "test-results";

    public static string Generate(WorkflowDefinition definition)
    {
        definition.Validate();
        var workflow = new YamlMap
        {
            { "name", definition.Name },
            { "on", Triggers(definition) },
            { "permissions", new YamlMap { { "contents", "read" } } },
            { "concurrency", definition.CancelSupersededPullRequestRuns ? RunConcurrency() : null },
            {
                "jobs", new YamlMap
                {
                    { BuildJob, Build(definition) },
                    { PushJob, Push(definition) },
                    { StagingJob, DeployStaging(definition) },
                    { PromoteJob, Promote(definition) },
                    { ProductionJob, DeployProduction(definition) },
                }
            },
        };
        return Header(definition) + SpaceOut(YamlText.Write(workflow));
    }

    static string Header(WorkflowDefinition d) =>
        $"""
        # GENERATED FILE - DO NOT EDIT BY HAND.
        # Written by Delivery.Workflows (WorkflowGenerator) from {d.Source}.
        # To change this workflow, change that declaration and regenerate with: {d.RegenerateCommand}
        # Every build checks this file against the declaration; CI fails when it is out of date.


        """;

    static YamlMap Triggers(WorkflowDefinition d) => new()
    {
        {
            "push", new YamlMap
            {
                { "branches", new YamlList { d.MainBranch } },
                { "tags", Strings(d.ReleaseTagPatterns) },
            }
        },
        { "pull_request", new YamlMap { { "branches", new YamlList { d.MainBranch } } } },
    };

    // One run per ref at a time; only pull request runs are cancelled by a newer push, so a run that is
    // publishing or deploying from main or a tag is never cut short.
    static YamlMap RunConcurrency() => new()
    {
        { "group", Wrap("github.workflow") + "-" + Wrap("github.ref") },
        { "cancel-in-progress", Wrap("github.event_name == 'pull_request'") },
    };

    static YamlMap Build(WorkflowDefinition d)
    {
        var steps = new YamlList();
        foreach (var step in PrepareSteps(d)) steps.Add(step);
        // No apt line: ./build.sh provisions what its targets need through its own plan (sudo -n on the runner).
        steps.Add(RunBuild(d, $"Build and test ({string.Join(", ", d.BuildTargets.Append(d.ExportImageTarget))})",
            [.. d.BuildTargets, d.ExportImageTarget], secrets: false));
        steps.Add(new YamlMap
        {
            { "name", "Upload test results" },
            { "if", "always()" },
            { "uses", UploadArtifact },
            { "with", new YamlMap { { "name", TestResultsArtifact }, { "path", d.TestResultsPath } } },
        });
        steps.Add(new YamlMap
        {
            { "name", "Upload the built image for the push job" },
            { "if", IsPushToBranch(d.MainBranch) },
            { "uses", UploadArtifact },
            {
                "with", new YamlMap
                {
                    { "name", BuiltImageArtifact },
                    { "path", Lines([d.ImageArchivePath, d.BuiltImagePath, d.SbomPath]) },
                    { "if-no-files-found", "error" },
                    { "retention-days", 1 },
                }
            },
        });

        return new YamlMap
        {
            { "name", "Build" },
            // A release tag names a commit main already built and tested: its run promotes that image instead.
            { "if", "!" + IsTag },
            { "runs-on", d.RunsOn },
            { "timeout-minutes", d.BuildTimeoutMinutes },
            // Pull requests run code from anyone's commit here: it gets read access and nothing to sign in with.
            { "permissions", new YamlMap { { "contents", "read" } } },
            { "steps", steps },
        };
    }

    static YamlMap Push(WorkflowDefinition d)
    {
        var steps = new YamlList();
        foreach (var step in PrepareSteps(d)) steps.Add(step);
        steps.Add(DownloadArtifactStep(d, BuiltImageArtifact, "Download the built image from the build job"));
        steps.Add(AwsCredentials(d, d.AwsPushRoleVariable));
        // The import checks that the loaded image's id is the one the build job recorded, then Push sends those bits.
        steps.Add(RunBuild(d, $"Load and push the built image ({d.ImportImageTarget}, {d.PushTarget})",
            [d.ImportImageTarget, d.PushTarget, d.SkipDependenciesOption]));
        foreach (var step in AttestSteps(d)) steps.Add(step);
        steps.Add(UploadManifestStep(d));

        return new YamlMap
        {
            { "name", "Push the image" },
            { "needs", BuildJob },
            { "if", IsPushToBranch(d.MainBranch) },
            { "runs-on", d.RunsOn },
            { "timeout-minutes", d.DeployTimeoutMinutes },
            // The push assumes the AWS role through OIDC, which needs an ID token; only this job may write attestations.
            { "permissions", PushPermissions() },
            { "steps", steps },
        };
    }

    static YamlMap DeployStaging(WorkflowDefinition d) => Deploy(
        d,
        title: "Deploy to staging",
        // Main only: a release tag's commit went through staging in main's run, so each commit deploys to staging once.
        condition: IsPushToBranch(d.MainBranch),
        needs: [PushJob],
        environment: "staging",
        url: d.StagingUrl,
        run: RunBuild(d, $"Deploy the built image to staging ({d.StagingTarget})", [d.StagingTarget, d.SkipDependenciesOption, .. LockWait(d)], deploy: true));

    // The tag filter on the push trigger already limits tags to release versions; expressions have no regex test.
    static YamlMap DeployProduction(WorkflowDefinition d) => Deploy(
        d,
        title: "Deploy to production",
        condition: IsTag,
        needs: [PromoteJob],
        environment: "production",
        url: d.ProductionUrl,
        // Deploys the image the build job pushed (hence the skip), under the pushed tag's name. The tag reaches the
        // script through GitHub's own GITHUB_REF_NAME variable rather than an expression pasted into the script.
        run: RunBuild(d, $"Deploy the release to production ({d.ProductionTarget})", [d.ProductionTarget, d.SkipDependenciesOption, d.PromoteVersionOption, "\"$GITHUB_REF_NAME\"", .. LockWait(d)], deploy: true));

    /// <summary>Release tags: no build. Main's run pushed (and attested) the commit's image; this adds the release tag
    /// to that digest and hands the manifest to production, or fails in one line when main never built the commit.</summary>
    static YamlMap Promote(WorkflowDefinition d)
    {
        var steps = new YamlList();
        foreach (var step in PrepareSteps(d)) steps.Add(step);
        steps.Add(AwsCredentials(d, d.AwsPushRoleVariable));
        steps.Add(RunBuild(d, $"Promote the image main built for this commit ({d.PromoteTarget})",
            [d.PromoteTarget, d.ImageWaitOption, (d.BuildTimeoutMinutes * 60).ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        steps.Add(UploadManifestStep(d));

        return new YamlMap
        {
            { "name", "Promote main's image of the commit" },
            { "if", $"github.event_name == 'push' && {IsTag}" },
            { "runs-on", d.RunsOn },
            // Waits at most the build job's limit for main's run to push, then tags.
            { "timeout-minutes", d.BuildTimeoutMinutes + 10 },
            { "permissions", OidcPermissions() },
            { "steps", steps },
        };
    }

    static YamlMap UploadManifestStep(WorkflowDefinition d) => new()
    {
        { "name", "Upload the image manifest" },
        { "uses", UploadArtifact },
        {
            "with", new YamlMap
            {
                { "name", ImageArtifact },
                { "path", d.ImageManifestPath },
                { "if-no-files-found", "error" },
            }
        },
    };

    static string[] LockWait(WorkflowDefinition d) => [d.LockWaitOption, d.DeployLockWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    static YamlMap Deploy(WorkflowDefinition d, string title, string condition, string[] needs, string environment, string? url, YamlMap run)
    {
        var steps = new YamlList();
        foreach (var step in PrepareSteps(d)) steps.Add(step);
        steps.Add(DownloadArtifactStep(d, ImageArtifact, $"Download the image manifest from the {needs[0]} job"));
        // The environment's own AWS_ROLE_ARN: its deploy role, trusted only from this environment.
        steps.Add(AwsCredentials(d, d.AwsRoleVariable));
        // Before the build touches any host: the digest must carry this repository's workflow attestation.
        steps.Add(VerifyAttestationStep(d));
        steps.Add(run);

        return new YamlMap
        {
            { "name", title },
            { "needs", needs.Length == 1 ? needs[0] : new YamlList(needs.Select(n => new YamlScalar(n, isText: true))) },
            { "if", condition },
            { "runs-on", d.RunsOn },
            { "timeout-minutes", d.DeployTimeoutMinutes },
            { "permissions", DeployPermissions() },
            // The environment is the approval gate: required reviewers are configured on it in GitHub.
            { "environment", url is null ? environment : new YamlMap { { "name", environment }, { "url", url } } },
            // A deploy in progress is never cancelled: cancelling would SIGKILL the scripts on the hosts mid-switch.
            // GitHub still replaces a *pending* job of the group with a newer one, and the build waits for the
            // hosts' lock (LockWait) should another run hold it.
            {
                "concurrency", new YamlMap
                {
                    { "group", $"deploy-{environment}" },
                    { "cancel-in-progress", false },
                }
            },
            { "steps", steps },
        };
    }

    // Every job that signs in to AWS needs an ID token; attestations are written by the push job only and read by
    // the deploy jobs' check.
    static YamlMap OidcPermissions(string? attestations = null) => new()
    {
        { "id-token", "write" },
        { "contents", "read" },
        { "attestations", attestations },
    };

    static YamlMap DeployPermissions() => OidcPermissions(attestations: "read");

    static YamlMap PushPermissions() => OidcPermissions(attestations: "write");

    /// <summary>GitHub's own attestation of the pushed digest (Sigstore, signed with the job's OIDC identity), stored
    /// in GitHub and pushed to the registry next to the image.</summary>
    static IEnumerable<YamlMap> AttestSteps(WorkflowDefinition d)
    {
        yield return new YamlMap
        {
            { "name", "Read the pushed digest" },
            { "id", "pushed" },
            { "run", $"echo \"repository=$(jq -r .repository {d.ImageManifestPath})\" >> \"$GITHUB_OUTPUT\"\necho \"digest=$(jq -r .digest {d.ImageManifestPath})\" >> \"$GITHUB_OUTPUT\"\n" },
        };
        yield return new YamlMap
        {
            { "name", "Attest the pushed digest" },
            { "uses", AttestBuildProvenance },
            {
                "with", new YamlMap
                {
                    { "subject-name", Wrap("steps.pushed.outputs.repository") },
                    { "subject-digest", Wrap("steps.pushed.outputs.digest") },
                    { "push-to-registry", true },
                }
            },
        };
    }

    /// <summary>Before the build touches any host: the digest must carry GitHub's attestation from this repository's
    /// workflow. gh reads the digest from the registry, so an ECR registry is logged in to first.</summary>
    static YamlMap VerifyAttestationStep(WorkflowDefinition d) => new()
    {
        { "name", "Verify the image's provenance" },
        {
            "run", $"repository=\"$(jq -r .repository {d.ImageManifestPath})\"\n" +
                   $"digest=\"$(jq -r .digest {d.ImageManifestPath})\"\n" +
                   "registry=\"${repository%%/*}\"\n" +
                   "case \"$registry\" in *.dkr.ecr.*.amazonaws.com) aws ecr get-login-password | docker login --username AWS --password-stdin \"$registry\" ;; esac\n" +
                   $"gh attestation verify \"oci://$repository@$digest\" --repo \"$GITHUB_REPOSITORY\" --signer-workflow \"$GITHUB_REPOSITORY/{d.RelativePath}\"\n"
        },
        { "env", new YamlMap { { "GH_TOKEN", Wrap("github.token") } } },
    };

    static IEnumerable<YamlMap> PrepareSteps(WorkflowDefinition d)
    {
        // Full history: the version is calculated from git tags.
        yield return new YamlMap
        {
            { "name", "Check out" },
            { "uses", Checkout },
            { "with", new YamlMap { { "fetch-depth", 0 } } },
        };
        yield return new YamlMap
        {
            { "name", "Set up .NET" },
            { "uses", SetupDotnet },
            { "with", new YamlMap { { "global-json-file", "global.json" } } },
        };
        yield return new YamlMap
        {
            { "name", "Cache NuGet packages and build outputs" },
            { "uses", Cache },
            {
                "with", new YamlMap
                {
                    { "path", Lines(d.CachePaths) },
                    { "key", Wrap("runner.os") + "-build-" + Wrap("hashFiles('**/*.csproj', 'Directory.Packages.props', 'global.json')") },
                    { "restore-keys", Wrap("runner.os") + "-build-" },
                }
            },
        };
    }

    static YamlMap AwsCredentials(WorkflowDefinition d, string roleVariable) => new()
    {
        { "name", "Configure AWS credentials (OIDC)" },
        { "uses", ConfigureAwsCredentials },
        {
            "with", new YamlMap
            {
                { "role-to-assume", Context("vars", roleVariable) },
                { "aws-region", Context("vars", d.AwsRegionVariable) },
            }
        },
    };

    static YamlMap DownloadArtifactStep(WorkflowDefinition d, string artifact, string title) => new()
    {
        { "name", title },
        { "uses", DownloadArtifact },
        { "with", new YamlMap { { "name", artifact }, { "path", d.ArtifactsFolder } } },
    };

    /// <param name="deploy">Deploy steps also get the deploy parameters.</param>
    /// <param name="secrets">False for the build job: secrets reach only the steps that use them.</param>
    static YamlMap RunBuild(WorkflowDefinition d, string title, IReadOnlyList<string> arguments, string? condition = null, bool deploy = false, bool secrets = true)
    {
        YamlMap? environment = null;
        IReadOnlyList<WorkflowParameter> parameters = deploy ? [.. d.Parameters, .. d.DeployParameters] : d.Parameters;
        foreach (var parameter in parameters.Where(p => secrets || p.Kind != WorkflowParameterKind.Secret))
        {
            environment ??= [];
            environment.Add(parameter.EnvironmentName, parameter.Expression);
        }
        return new YamlMap
        {
            { "name", title },
            { "if", condition },
            // exec: the step's shell becomes the build, so the runner's SIGINT on cancel or timeout reaches dotnet
            // (it signals only the step's own process) and the build can cancel its SSM commands and switch back.
            { "run", $"exec {d.BuildScript} {string.Join(" ", arguments)}" },
            // On the step, not the job: the values reach the build script and no other action.
            { "env", environment },
        };
    }

    static YamlList Strings(IEnumerable<string> values) => new(values.Select(v => (YamlNode)v!));

    static string Lines(IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : string.Join("\n", values) + "\n";

    /// <summary>A blank line before each top-level key and each job, for readability.</summary>
    static string SpaceOut(string yaml)
    {
        var output = new StringBuilder();
        var inJobs = false;
        var first = true;
        var firstJob = true;
        foreach (var line in yaml.TrimEnd('\n').Split('\n'))
        {
            var topLevel = line.Length > 0 && line[0] != ' ';
            var jobKey = inJobs && line.StartsWith("  ", StringComparison.Ordinal) && line.Length > 2 && line[2] != ' ';
            if ((topLevel && !first) || (jobKey && !firstJob)) output.Append('\n');
            if (jobKey) firstJob = false;
            if (topLevel)
            {
                first = false;
                inJobs = line == "jobs:";
            }
            output.Append(line).Append('\n');
        }
        return output.ToString();
    }
}
