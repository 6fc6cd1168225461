using Aws.TestEndpoint;
using Delivery.Core;
using Delivery.Hosts;

namespace Delivery.Aws.Tests;

/// <summary>SendCommand to a fleet through the official SDK: rate controls, per-instance results, records.</summary>
public sealed class FleetTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    static readonly FleetOptions Rolling = new() { PollInterval = TimeSpan.FromMilliseconds(100), DeliveryTimeoutSeconds = 30, ExecutionTimeoutSeconds = 30 };

    /// <summary>Three tagged instances; the second fails any script that honours FAIL_HERE (its own "broken host").</summary>
    SsmTargets Fleet(string role)
    {
        for (var i = 1; i <= 3; i++)
        {
            var instance = fixture.Endpoint.AddInstance($"i-{role}{i:D7}".PadRight(19, '0')[..19]);
            instance.Tags["Role"] = role;
            if (i == 2) instance.Environment["FAIL_HERE"] = "1";
        }
        return SsmTargets.Parse($"tag:Role={role}", "targets");
    }

    const string Script = """
        echo "running on $AWS_SSM_INSTANCE_ID"
        sleep 0.3
        if [ -n "${FAIL_HERE:-}" ]; then echo 'webapp-deploy: error: health gate failed on this host'; exit 1; fi
        echo done
        """;

    [Fact]
    public async Task A_rolling_command_stops_at_the_first_failure_and_leaves_the_rest_unreached()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var log = new List<string>();

        var runs = await new SsmFleet(ssm, Fleet("abcdef1"), Rolling, log.Add).RunAsync(Script, "test roll");

        Assert.Equal(3, runs.Count);
        Assert.Equal(["Success", "Failed", "Cancelled"], runs.Select(r => r.Status));
        Assert.True(runs[0].Succeeded);
        Assert.Equal("health gate failed on this host", runs[1].Reason(Rolling));
        Assert.Equal(1, runs[1].Summary!.Exit);
        Assert.Equal(runs[1].InstanceId, runs[1].Summary!.Instance);
        Assert.False(runs[2].Reached);
        Assert.Contains(runs[0].Lines, l => l == $"running on {runs[0].InstanceId}");
        var commandId = fixture.Endpoint.Invocations.Last(i => i.InstanceId == runs[0].InstanceId).CommandId;
        Assert.Equal(1, fixture.Endpoint.MaxParallelInvocations(commandId));
        Assert.Contains(log, l => l.Contains(runs[1].InstanceId) && l.Contains("Failed") && l.Contains("health gate failed on this host"));
    }

    [Fact]
    public async Task Max_concurrency_and_max_errors_let_every_instance_run()
    {
        using var ssm = new SsmClient(fixture.Settings());

        var runs = await new SsmFleet(ssm, Fleet("abcdef2"), Rolling with { MaxConcurrency = "3", MaxErrors = "1" }).RunAsync(Script, "test all");

        Assert.Equal(["Success", "Failed", "Success"], runs.Select(r => r.Status));
        var commandId = fixture.Endpoint.Invocations.Last(i => i.InstanceId == runs[0].InstanceId).CommandId;
        Assert.Equal(3, fixture.Endpoint.MaxParallelInvocations(commandId));
    }

    [Fact]
    public async Task A_tag_that_matches_nothing_deploys_nowhere_and_says_so()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var deployer = new Deployer(new SsmFleetSite(ssm, SsmTargets.Parse("tag:Role=nobody", "targets"), Rolling, "webapp"), new HostSettings());
        var release = new PinnedImage("1.0.0", "127.0.0.1:5000/webapp", "sha256:" + new string('a', 64), "abcdef0");

        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            deployer.DeployAsync(DeployEnvironment.Staging, release, new DeployOptions { DeployedBy = "t" }));

        Assert.Equal("tag:Role=nobody matches no SSM-managed instance; nothing was deployed to staging", error.Message);
    }

    [Fact]
    public async Task A_command_over_the_size_limit_is_refused_before_sending()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var before = fixture.Endpoint.Received.Count;

        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            new SsmFleet(ssm, SsmTargets.Instances(EndpointFixture.Instance), Rolling).RunAsync("# " + new string('x', 70_000), "big"));

        Assert.StartsWith("The SSM command is 7", error.Message);
        Assert.EndsWith("bytes, over the 65,536-byte limit of an SSM document's parameters; nothing was sent", error.Message);
        Assert.Equal(before, fixture.Endpoint.Received.Count);
    }

    [Fact]
    public async Task Release_records_keep_their_history_as_parameter_versions()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var records = new ReleaseParameters(ssm, $"app{Guid.NewGuid():N}"[..12]);
        Assert.Null(await records.GetAsync(DeployEnvironment.Staging));

        foreach (var version in new[] { "1.0.0", "1.1.0" })
            await records.PutAsync(DeployEnvironment.Staging, new FleetRelease(version, "sha256:" + new string('b', 64),
                "r/webapp@sha256:" + new string('b', 64), "abc1234", "2026-12-01T00:00:00Z", "tester", ["i-0123456789abcdef0"],
                // 1.1.0 went out with --allow-unattested; the record keeps why.
                version == "1.1.0" ? "bad signature" : null));

        var current = await records.GetAsync(DeployEnvironment.Staging);
        Assert.Equal((2L, "1.1.0"), (current!.Value.Version, current.Value.Release.Version));
        var history = await records.HistoryAsync(DeployEnvironment.Staging);
        Assert.Equal(["1.0.0", "1.1.0"], history.Select(h => h.Release.Version));
        Assert.Equal([null, "bad signature"], history.Select(h => h.Release.Unattested));
        Assert.Equal([1L, 2L], history.Select(h => h.Version));
    }

    [Fact]
    public async Task An_expired_session_token_is_refused_in_one_line()
    {
        fixture.Endpoint.ExpiredSessionTokens[AwsTestEndpoint.SessionToken] = true;
        try
        {
            using var ssm = new SsmClient(fixture.Settings(new Amazon.Runtime.SessionAWSCredentials(
                AwsTestEndpoint.TemporaryAccessKey, AwsTestEndpoint.TemporarySecretKey, AwsTestEndpoint.SessionToken), maxAttempts: 1));

            var error = await Assert.ThrowsAsync<AwsException>(() => ssm.GetParameterAsync("/any"));

            Assert.Equal("SSM GetParameter failed: ExpiredTokenException: The security token included in the request is expired", error.Message);
        }
        finally
        {
            fixture.Endpoint.ExpiredSessionTokens.Clear();
        }
    }

    [Fact]
    public async Task One_attempt_means_no_retry_even_when_throttled()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 1));
        var before = fixture.Endpoint.Received.Count;
        fixture.Endpoint.ThrottleNext(1);

        var error = await Assert.ThrowsAsync<AwsException>(() => new SsmHost(ssm, EndpointFixture.Instance).RunAsync("echo never"));

        Assert.Equal("SSM SendCommand failed: ThrottlingException: Rate exceeded", error.Message);
        Assert.Equal(1, fixture.Endpoint.Received.Count - before);
    }

    [Fact]
    public async Task Every_answer_carries_a_request_id()
    {
        using var http = new HttpClient();
        var answer = await http.PostAsync(fixture.Endpoint.Url, new StringContent("{}"));
        Assert.True(answer.Headers.TryGetValues("x-amzn-RequestId", out var ids) && Guid.TryParse(ids.Single(), out _));
    }

    [Fact]
    public void An_unknown_region_fails_in_one_line()
    {
        var error = Assert.Throws<DeliveryException>(() => new SsmClient(fixture.Settings() with { Region = "xx-nowhere-9" }));
        Assert.Equal("Unknown AWS region 'xx-nowhere-9' (expected a name such as eu-west-1)", error.Message);
    }
}
