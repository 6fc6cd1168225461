using System.Text.Json;
using Aws.TestEndpoint;
using Delivery.Hosts;
using TestSupport;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// Every operation, not only deploy, on an SSM fleet through ./build.sh: rollback, the promotion rules, two regions,
/// and the checks made before anything is sent (logs, teardown and a failed rollback: <see cref="FleetTeardownAndFailedRollbackTests"/>).
/// The AWS test endpoint runs each command for real on its fake instances (each its own host: state root, proxy,
/// containers, ports).
/// </summary>
[Collection(FleetCloneCollection.Name)]
public sealed partial class FleetOperationsTests(CloneFixture clone, FleetFixture fleet) : FleetCloneTests(clone, fleet), IClassFixture<FleetFixture>
{
    [Fact]
    public async Task Rolling_production_back_moves_every_instance_one_at_a_time_without_a_failed_request_and_updates_the_record()
    {
        var instances = Fleet.Instances.Take(3).ToList();
        string[] both = ["--staging-targets", Fleet.Tag, "--production-targets", Fleet.Tag];
        foreach (var release in new[] { Fleet.V1, Fleet.V2 })
        {
            await WriteImageAsync(release);
            BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. both]));
            BuildAssert.Succeeded(await BuildAsync(["DeployProduction", "--skip", .. both]));
        }
        foreach (var i in instances) Assert.Equal("1.1.0", await Fleet.VersionAsync(i.ProductionPort));

        // Users until the whole roll is done, however long it takes on a loaded machine.
        await using var wrk = Wrk.StartUntilStopped(instances[0].ProductionPort, TimeSpan.FromMinutes(3));
        var rollback = await BuildAsync(["Rollback", "--environment", "production", "--max-concurrency", "1", .. both]);
        var load = await wrk.StopAsync();

        BuildAssert.Succeeded(rollback);
        foreach (var i in instances) Assert.Equal("1.0.0", await Fleet.VersionAsync(i.ProductionPort));
        foreach (var i in instances) Assert.Equal("1.1.0", await Fleet.VersionAsync(i.StagingPort));
        var table = rollback.OutputLines.SkipWhile(l => !l.StartsWith("Host  ", StringComparison.Ordinal)).Skip(1).Take(3).ToList();
        Assert.Equal(instances.Select(i => i.Id).Order(), table.Select(l => l.Split(' ')[0]).Order());
        Assert.All(table, l => Assert.Matches("  rolled back +- +1\\.0\\.0$", l));
        Assert.StartsWith("production back on 1.0.0 on 3 host(s)", rollback.SummaryNote("Rollback"));
        var commandId = Fleet.Endpoint.Invocations.Last(x => x.InstanceId == instances[0].Id).CommandId;
        Assert.Equal(1, Fleet.Endpoint.MaxParallelInvocations(commandId));
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
    public async Task A_release_whose_bake_failed_on_staging_is_never_promoted_from_the_fleet()
    {
        var solo = Fleet.Instances[3];
        string[] metered = ["--bake-metrics-path", TestImages.MetricsPath, "--bake-probe-paths", TestImages.PagePath, "--bake-interval", "1s"];
        await WriteImageAsync(Fleet.Metered);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", "--staging-targets", solo.Id, "--bake-seconds", "0", .. metered]));
        await WriteImageAsync(Fleet.Serves5xx);
        var bad = await BuildAsync(["DeployStaging", "--skip", "--staging-targets", solo.Id, "--bake-seconds", "6s", .. metered]);
        Assert.Contains("failed the bake on staging", BuildAssert.TargetFailure(bad, "DeployStaging"));
        var before = Fleet.Endpoint.Invocations.Count(i => i.InstanceId == solo.Id);

        var promotion = await BuildAsync("DeployProduction", "--skip", "--promote-version", "2.1.0", "--registry", Fleet.Registry.Address, "--image-name", "e2e-fleet", "--staging-targets", solo.Id, "--production-targets", solo.Id);

        Assert.Equal($"2.1.0 ({Fleet.Serves5xx.ShortDigest}) is not verified on staging ({solo.Id}: failed its bake); deploy it to staging first, or pass --allow-unverified",
            BuildAssert.TargetFailure(promotion, "DeployProduction"));
        Assert.Equal(before + 1, Fleet.Endpoint.Invocations.Count(i => i.InstanceId == solo.Id)); // the evidence query only
        Assert.NotEqual("2.1.0", await Fleet.VersionAsync(solo.ProductionPort));
    }

    [Fact]
    public async Task A_bake_longer_than_the_execution_timeout_is_refused_before_anything_is_sent()
    {
        await WriteImageAsync(Fleet.V1);
        var before = Fleet.Endpoint.Received.Count;

        var run = await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Instances[3].Id, "--bake-seconds", "20m", "--execution-timeout", "15m");

        Assert.Equal($"A deploy to staging can take 1320 s (bake 1200 s + health 60 s + drain 30 s + stop 30 s + lock wait 0 s), more than the 900 s {Fleet.Instances[3].Id} lets a script run; " +
                     "raise --execution-timeout or lower --bake-seconds (nothing was sent)", BuildAssert.TargetFailure(run, "DeployStaging"));
        Assert.Equal(before, Fleet.Endpoint.Received.Count);
    }

    [Fact]
    public async Task Each_environment_talks_to_its_own_region()
    {
        await using var other = await AwsTestEndpoint.StartAsync("us-east-1");
        var id = $"i-0e2e{Fleet.RunId}9999999";
        var instance = other.AddInstance(id);
        var root = Directory.CreateTempSubdirectory("e2e-region-").FullName;
        try
        {
            var config = Path.Combine(root, "host.env");
            File.WriteAllText(config, $"state_root={root}/state\napp=e2er{Fleet.RunId}\nstaging_port={Tools.FreePort()}\nproduction_port={Tools.FreePort()}\npublic_bind=127.0.0.1\n");
            instance.Environment["WEBAPP_HOST_CONFIG"] = config;
            var env = Fleet.AwsEnvironment();
            env["AWS_ENDPOINT_URL_SSM"] = null;
            var stagingBefore = Fleet.Endpoint.Received.Count(r => r == "AmazonSSM.SendCommand");

            var status = await BuildAsync(env, "Status", "--aws-region", Fleet.Endpoint.Region,
                "--staging-targets", Fleet.Instances[3].Id, "--staging-endpoint-url", Fleet.Endpoint.Url.ToString(),
                "--production-targets", id, "--production-region", "us-east-1", "--production-endpoint-url", other.Url.ToString());

            BuildAssert.Succeeded(status);
            Assert.Contains(status.OutputLines, l => l.StartsWith($"{id}  production", StringComparison.Ordinal) && l.Contains("(not deployed)"));
            Assert.Contains(status.OutputLines, l => l.StartsWith($"{Fleet.Instances[3].Id}  staging", StringComparison.Ordinal));
            Assert.Contains("AmazonSSM.SendCommand", other.Received);
            Assert.True(Fleet.Endpoint.Received.Count(r => r == "AmazonSSM.SendCommand") > stagingBefore, "staging's region got no command");
            Assert.All(other.Invocations, i => Assert.Equal(id, i.InstanceId));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
