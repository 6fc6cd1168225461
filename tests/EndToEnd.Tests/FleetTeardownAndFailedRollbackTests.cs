using System.Text.Json;
using Aws.TestEndpoint;
using Delivery.Hosts;
using TestSupport;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// More operations on an SSM fleet through ./build.sh, on a fleet and a clone of their own so they run beside
/// <see cref="FleetOperationsTests"/>: logs and teardown, and a rollback that fails on its second instance.
/// </summary>
[Collection(FleetTeardownCloneCollection.Name)]
public sealed class FleetTeardownAndFailedRollbackTests(CloneFixture clone, FleetFixture fleet) : FleetCloneTests(clone, fleet), IClassFixture<FleetFixture>
{
    [Fact]
    public async Task A_rollback_that_fails_mid_way_stops_and_says_where_each_instance_is()
    {
        var (first, second, third) = (Fleet.Instances[0], Fleet.Instances[1], Fleet.Instances[2]);
        foreach (var release in new[] { Fleet.V1, Fleet.V2 })
        {
            await WriteImageAsync(release);
            BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag));
        }
        second.Fake.Environment["DOCKER_HOST"] = "unix:///nonexistent/docker.sock";
        try
        {
            var run = await BuildAsync("Rollback", "--environment", "staging", "--staging-targets", Fleet.Tag);

            var message = BuildAssert.TargetFailure(run, "Rollback");
            Assert.StartsWith($"Rollback of staging failed on {second.Id}: ", message);
            Assert.EndsWith($"; done on {first.Id}; untouched: {third.Id}", message);
            var table = run.OutputLines.SkipWhile(l => !l.StartsWith("Host  ", StringComparison.Ordinal)).Take(4).ToList();
            Assert.Matches($"^{first.Id}  rolled back +- +1\\.0\\.0$", table[1]);
            Assert.Matches($"^{second.Id}  FAILED: the Docker engine does not answer .+ +- +(1\\.1\\.0 \\(unchanged\\)|unchanged \\(its own health gate kept the old release\\))$", table[2]);
            Assert.Matches($"^{third.Id}  not reached +- +1\\.1\\.0 \\(untouched\\)$", table[3]);
            Assert.Equal("1.0.0", await Fleet.VersionAsync(first.StagingPort));
            Assert.Equal("1.1.0", await Fleet.VersionAsync(second.StagingPort));
            Assert.Equal("1.1.0", await Fleet.VersionAsync(third.StagingPort));
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
        var instances = Fleet.Instances.Take(3).ToList();
        await WriteImageAsync(Fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag));

        var logs = await BuildAsync("Logs", "--environment", "staging", "--lines", "5", "--staging-targets", Fleet.Tag);
        BuildAssert.Succeeded(logs);
        foreach (var i in instances)
            Assert.Contains(logs.OutputLines, l => l.StartsWith($"{i.Id} | ", StringComparison.Ordinal));

        var unconfirmed = await BuildAsync("Teardown", "--environment", "staging", "--staging-targets", Fleet.Tag);
        Assert.Equal($"This removes the staging environment on 3 instances ({Fleet.Tag}). Pass --yes to confirm",
            BuildAssert.TargetFailure(unconfirmed, "Teardown"));
        foreach (var i in instances) Assert.Equal("1.0.0", await Fleet.VersionAsync(i.StagingPort));

        var teardown = await BuildAsync("Teardown", "--environment", "staging", "--yes", "--staging-targets", Fleet.Tag);

        BuildAssert.Succeeded(teardown);
        Assert.Contains(teardown.OutputLines, l => l == "Removed the release record /webapp/staging/release from Parameter Store");
        foreach (var i in instances) Assert.NotEqual("1.0.0", await Fleet.VersionAsync(i.StagingPort));
        var status = await BuildAsync("Status", "--staging-targets", Fleet.Tag, "--production-targets", Fleet.Tag);
        Assert.DoesNotContain(status.OutputLines, l => l.StartsWith("staging: Parameter Store", StringComparison.Ordinal));
    }
}
