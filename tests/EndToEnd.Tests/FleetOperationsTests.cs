using System.Text.Json;
using Aws.TestEndpoint;
using Delivery.Hosts;
using TestSupport;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// Every operation, not only deploy, on an SSM fleet through ./build.sh: rollback, logs, teardown, the promotion
/// rules, two regions, and the checks made before anything is sent. The AWS test endpoint runs each command for
/// real on its fake instances (each its own host: state root, proxy, containers, ports).
/// </summary>
[Collection(FleetCloneCollection.Name)]
public sealed class FleetOperationsTests(CloneFixture clone, FleetFixture fleet) : CloneTests(clone), IClassFixture<FleetFixture>
{
    async Task WriteImageAsync(PinnedImage release)
    {
        Directory.CreateDirectory(Path.Combine(Root, "artifacts"));
        await File.WriteAllTextAsync(Path.Combine(Root, "artifacts", "image.json"), JsonSerializer.Serialize(new
        {
            repository = release.Repository, tags = new[] { release.Version }, digest = release.Digest,
            version = release.Version, commit = release.Commit, created = DateTimeOffset.UtcNow,
        }));
    }

    /// <summary>Short timeouts the tests set themselves, so a failure path never waits for a default.</summary>
    Task<BuildRun> BuildAsync(Dictionary<string, string?>? environment, params string[] arguments) =>
        Clone.BuildAsync(environment ?? fleet.AwsEnvironment(),
            [.. arguments, .. arguments.Contains("--bake-seconds") ? Array.Empty<string>() : ["--bake-seconds", "0"], "--delivery-timeout", "60s", "--allow-unattested"]);

    Task<BuildRun> BuildAsync(params string[] arguments) => BuildAsync(null, arguments);

    [Fact]
    public async Task Rolling_production_back_moves_every_instance_one_at_a_time_without_a_failed_request_and_updates_the_record()
    {
        var instances = fleet.Instances.Take(3).ToList();
        string[] both = ["--staging-targets", fleet.Tag, "--production-targets", fleet.Tag];
        foreach (var release in new[] { fleet.V1, fleet.V2 })
        {
            await WriteImageAsync(release);
            BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. both]));
            BuildAssert.Succeeded(await BuildAsync(["DeployProduction", "--skip", .. both]));
        }
        foreach (var i in instances) Assert.Equal("1.1.0", await fleet.VersionAsync(i.ProductionPort));

        var wrk = Wrk.Start(instances[0].ProductionPort, TimeSpan.FromSeconds(20));
        var rollback = await BuildAsync(["Rollback", "--environment", "production", "--max-concurrency", "1", .. both]);
        var load = await wrk.Result();

        BuildAssert.Succeeded(rollback);
        foreach (var i in instances) Assert.Equal("1.0.0", await fleet.VersionAsync(i.ProductionPort));
        foreach (var i in instances) Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
        var table = rollback.OutputLines.SkipWhile(l => !l.StartsWith("Host  ", StringComparison.Ordinal)).Skip(1).Take(3).ToList();
        Assert.Equal(instances.Select(i => i.Id).Order(), table.Select(l => l.Split(' ')[0]).Order());
        Assert.All(table, l => Assert.Matches("  rolled back +- +1\\.0\\.0$", l));
        Assert.StartsWith("production back on 1.0.0 on 3 host(s)", rollback.SummaryNote("Rollback"));
        var commandId = fleet.Endpoint.Invocations.Last(x => x.InstanceId == instances[0].Id).CommandId;
        Assert.Equal(1, fleet.Endpoint.MaxParallelInvocations(commandId));
        Assert.Contains(rollback.OutputLines, l => l.StartsWith("Recorded 1.0.0 in Parameter Store /webapp/production/release (version ", StringComparison.Ordinal));

        var status = await BuildAsync(["Status", "--skip", .. both]);
        BuildAssert.Succeeded(status);
        Assert.Contains(status.OutputLines, l => l.StartsWith("production: Parameter Store /webapp/production/release v", StringComparison.Ordinal) && l.Contains(": 1.0.0 ("));
        // Each instance keeps 1.1.0 as its rollback target, and matches the record.
        foreach (var i in instances)
            BuildAssert.HasLine(status, l => l.StartsWith($"{i.Id}  production", StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.IsMatch(l, "  healthy +1\\.1\\.0 +matches$"),
                $"{i.Id} production healthy, rollback to 1.1.0, matching the record");
        Assert.True(load.Requests > 0, load.ToString());
        Assert.Equal(0, load.FailedRequests);
    }

    [Fact]
    public async Task A_rollback_that_fails_mid_way_stops_and_says_where_each_instance_is()
    {
        var (first, second, third) = (fleet.Instances[0], fleet.Instances[1], fleet.Instances[2]);
        foreach (var release in new[] { fleet.V1, fleet.V2 })
        {
            await WriteImageAsync(release);
            BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag));
        }
        second.Fake.Environment["DOCKER_HOST"] = "unix:///nonexistent/docker.sock";
        try
        {
            var run = await BuildAsync("Rollback", "--environment", "staging", "--staging-targets", fleet.Tag);

            var message = BuildAssert.TargetFailure(run, "Rollback");
            Assert.StartsWith($"Rollback of staging failed on {second.Id}: ", message);
            Assert.EndsWith($"; done on {first.Id}; untouched: {third.Id}", message);
            var table = run.OutputLines.SkipWhile(l => !l.StartsWith("Host  ", StringComparison.Ordinal)).Take(4).ToList();
            Assert.Matches($"^{first.Id}  rolled back +- +1\\.0\\.0$", table[1]);
            Assert.Matches($"^{second.Id}  FAILED: the Docker engine does not answer .+ +- +(1\\.1\\.0 \\(unchanged\\)|unchanged \\(its own health gate kept the old release\\))$", table[2]);
            Assert.Matches($"^{third.Id}  not reached +- +1\\.1\\.0 \\(untouched\\)$", table[3]);
            Assert.Equal("1.0.0", await fleet.VersionAsync(first.StagingPort));
            Assert.Equal("1.1.0", await fleet.VersionAsync(second.StagingPort));
            Assert.Equal("1.1.0", await fleet.VersionAsync(third.StagingPort));
            Assert.DoesNotContain(run.OutputLines, l => l.StartsWith("Recorded ", StringComparison.Ordinal));
        }
        finally
        {
            second.Fake.Environment.Remove("DOCKER_HOST");
        }
    }

    [Fact]
    public async Task Logs_prefix_each_line_with_its_instance_and_teardown_asks_naming_the_count_then_removes_everything()
    {
        var instances = fleet.Instances.Take(3).ToList();
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Tag));

        var logs = await BuildAsync("Logs", "--environment", "staging", "--lines", "5", "--staging-targets", fleet.Tag);
        BuildAssert.Succeeded(logs);
        foreach (var i in instances)
            Assert.Contains(logs.OutputLines, l => l.StartsWith($"{i.Id} | ", StringComparison.Ordinal));

        var unconfirmed = await BuildAsync("Teardown", "--environment", "staging", "--staging-targets", fleet.Tag);
        Assert.Equal($"This removes the staging environment on 3 instances ({fleet.Tag}). Pass --yes to confirm",
            BuildAssert.TargetFailure(unconfirmed, "Teardown"));
        foreach (var i in instances) Assert.Equal("1.0.0", await fleet.VersionAsync(i.StagingPort));

        var teardown = await BuildAsync("Teardown", "--environment", "staging", "--yes", "--staging-targets", fleet.Tag);

        BuildAssert.Succeeded(teardown);
        Assert.Contains(teardown.OutputLines, l => l == "Removed the release record /webapp/staging/release from Parameter Store");
        foreach (var i in instances) Assert.NotEqual("1.0.0", await fleet.VersionAsync(i.StagingPort));
        var status = await BuildAsync("Status", "--staging-targets", fleet.Tag, "--production-targets", fleet.Tag);
        Assert.DoesNotContain(status.OutputLines, l => l.StartsWith("staging: Parameter Store", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_release_whose_bake_failed_on_staging_is_never_promoted_from_the_fleet()
    {
        var solo = fleet.Instances[3];
        string[] metered = ["--bake-metrics-path", TestImages.MetricsPath, "--bake-probe-paths", TestImages.PagePath, "--bake-interval", "1s"];
        await WriteImageAsync(fleet.Metered);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", "--staging-targets", solo.Id, "--bake-seconds", "0", .. metered]));
        await WriteImageAsync(fleet.Serves5xx);
        var bad = await BuildAsync(["DeployStaging", "--skip", "--staging-targets", solo.Id, "--bake-seconds", "6s", .. metered]);
        Assert.Contains("failed the bake on staging", BuildAssert.TargetFailure(bad, "DeployStaging"));
        var before = fleet.Endpoint.Invocations.Count(i => i.InstanceId == solo.Id);

        var promotion = await BuildAsync("DeployProduction", "--skip", "--promote-version", "2.1.0", "--registry", fleet.Registry.Address, "--image-name", "e2e-fleet", "--staging-targets", solo.Id, "--production-targets", solo.Id);

        Assert.Equal($"2.1.0 ({fleet.Serves5xx.ShortDigest}) is not verified on staging ({solo.Id}: failed its bake); deploy it to staging first, or pass --allow-unverified",
            BuildAssert.TargetFailure(promotion, "DeployProduction"));
        Assert.Equal(before + 1, fleet.Endpoint.Invocations.Count(i => i.InstanceId == solo.Id)); // the evidence query only
        Assert.NotEqual("2.1.0", await fleet.VersionAsync(solo.ProductionPort));
    }

    [Fact]
    public async Task The_release_phase_runs_on_the_first_instance_only_and_maintenance_goes_on_and_off_on_every_instance()
    {
        var instances = fleet.Instances.Take(3).ToList();
        string[] staging = ["--staging-targets", fleet.Tag];
        await WriteImageAsync(fleet.V1);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. staging]));
        var marker = $"migrated-{fleet.RunId}";
        await WriteImageAsync(fleet.V2);
        var deploy = await BuildAsync(["DeployStaging", "--skip", "--release-command", $"/bin/busybox echo {marker}", .. staging]);

        BuildAssert.Succeeded(deploy);
        foreach (var i in instances) Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
        // One SSM command, to one instance of the three, which printed the command's output and passed.
        var log = string.Join("\n", deploy.OutputLines);
        var sent = System.Text.RegularExpressions.Regex.Match(log, @"^Release phase of 1\.1\.0 on staging: SSM command (?<id>[0-9a-f-]+) to (?<instance>i-[0-9a-f]+) \(", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(sent.Success, log);
        var first = Assert.Single(instances, i => i.Id == sent.Groups["instance"].Value);
        Assert.Equal([first.Id], fleet.Endpoint.Invocations.Where(x => x.CommandId == sent.Groups["id"].Value).Select(x => x.InstanceId));
        Assert.Contains($"release phase: {marker}", fleet.Endpoint.Output(sent.Groups["id"].Value, first.Id));
        Assert.Single(deploy.OutputLines, l => l.StartsWith($"release phase passed on {first.Id} in ", StringComparison.Ordinal));

        var on = await BuildAsync(["Maintenance", "--environment", "staging", "--on", "--message", $"Database upgrade {fleet.RunId}", "--retry-after", "90s", .. staging]);
        BuildAssert.Succeeded(on);
        foreach (var i in instances)
        {
            var (status, body, retry) = await Get(i.StagingPort, "/");
            Assert.Equal((503, "90"), (status, retry));
            Assert.Contains($"Database upgrade {fleet.RunId}", body);
            Assert.Equal(200, (await Get(i.StagingPort, "/readyz")).Status);
        }
        var shown = await BuildAsync(["Maintenance", "--environment", "staging", .. staging]);
        BuildAssert.Succeeded(shown);
        var note = System.Text.RegularExpressions.Regex.Replace(shown.SummaryNote("Maintenance") ?? "", @"\s+", " ");
        foreach (var i in instances)
            Assert.Matches($@"{i.Id}: staging in maintenance since \S+ \(Database upgrade {fleet.RunId}\)", note);

        var off = await BuildAsync(["Maintenance", "--environment", "staging", "--off", .. staging]);
        BuildAssert.Succeeded(off);
        foreach (var i in instances) Assert.Equal("1.1.0", await fleet.VersionAsync(i.StagingPort));
    }

    static async Task<(int Status, string Body, string? RetryAfter)> Get(int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}{path}");
        var retry = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), retry);
    }

    [Fact]
    public async Task A_bake_longer_than_the_execution_timeout_is_refused_before_anything_is_sent()
    {
        await WriteImageAsync(fleet.V1);
        var before = fleet.Endpoint.Received.Count;

        var run = await BuildAsync("DeployStaging", "--skip", "--staging-targets", fleet.Instances[3].Id, "--bake-seconds", "20m", "--execution-timeout", "15m");

        Assert.Equal($"A deploy to staging can take 1290 s (bake 1200 s + health 60 s + drain 30 s + lock wait 0 s), more than the 900 s {fleet.Instances[3].Id} lets a script run; " +
                     "raise --execution-timeout or lower --bake-seconds (nothing was sent)", BuildAssert.TargetFailure(run, "DeployStaging"));
        Assert.Equal(before, fleet.Endpoint.Received.Count);
    }

    [Fact]
    public async Task Each_environment_talks_to_its_own_region()
    {
        await using var other = await AwsTestEndpoint.StartAsync("us-east-1");
        var id = $"i-0e2e{fleet.RunId}9999999";
        var instance = other.AddInstance(id);
        var root = Directory.CreateTempSubdirectory("e2e-region-").FullName;
        try
        {
            var config = Path.Combine(root, "host.env");
            File.WriteAllText(config, $"state_root={root}/state\napp=e2er{fleet.RunId}\nstaging_port={Tools.FreePort()}\nproduction_port={Tools.FreePort()}\npublic_bind=127.0.0.1\n");
            instance.Environment["WEBAPP_HOST_CONFIG"] = config;
            var env = fleet.AwsEnvironment();
            env["AWS_ENDPOINT_URL_SSM"] = null;
            var stagingBefore = fleet.Endpoint.Received.Count(r => r == "AmazonSSM.SendCommand");

            var status = await BuildAsync(env, "Status", "--aws-region", fleet.Endpoint.Region,
                "--staging-targets", fleet.Instances[3].Id, "--staging-endpoint-url", fleet.Endpoint.Url.ToString(),
                "--production-targets", id, "--production-region", "us-east-1", "--production-endpoint-url", other.Url.ToString());

            BuildAssert.Succeeded(status);
            Assert.Contains(status.OutputLines, l => l.StartsWith($"{id}  production", StringComparison.Ordinal) && l.Contains("(not deployed)"));
            Assert.Contains(status.OutputLines, l => l.StartsWith($"{fleet.Instances[3].Id}  staging", StringComparison.Ordinal));
            Assert.Contains("AmazonSSM.SendCommand", other.Received);
            Assert.True(fleet.Endpoint.Received.Count(r => r == "AmazonSSM.SendCommand") > stagingBefore, "staging's region got no command");
            Assert.All(other.Invocations, i => Assert.Equal(id, i.InstanceId));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
