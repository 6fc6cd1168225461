namespace Delivery.Aws.Tests;

public sealed class RetryTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    [Fact]
    public async Task Throttling_is_retried_until_the_call_goes_through()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 5));
        var name = $"/retry/{Guid.NewGuid():N}";
        var before = fixture.Endpoint.Received.Count;
        fixture.Endpoint.ThrottleNext(2);

        var version = await ssm.PutParameterAsync(name, "v");

        Assert.Equal(1, version);
        Assert.Equal(3, fixture.Endpoint.Received.Skip(before).Count(t => t == "AmazonSSM.PutParameter"));
        Assert.Single(await ssm.GetParametersByPathAsync("/retry"), p => p.Name == name);
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_error_is_reported()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 3));
        var before = fixture.Endpoint.Received.Count;
        fixture.Endpoint.ThrottleNext(100);
        try
        {
            var error = await Assert.ThrowsAsync<AwsException>(() => ssm.PutParameterAsync("/retry/never", "v"));

            Assert.Equal("SSM PutParameter failed: ThrottlingException: Rate exceeded", error.Message);
            Assert.Equal(3, fixture.Endpoint.Received.Count - before);
        }
        finally
        {
            fixture.Endpoint.ThrottleNext(0);
        }
    }

    [Fact]
    public async Task Server_errors_are_retried_for_idempotent_calls()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 5));
        var before = fixture.Endpoint.Received.Count;
        fixture.Endpoint.FailNext(2);

        var parameters = await ssm.GetParametersByPathAsync("/retry/none");

        Assert.Empty(parameters);
        Assert.Equal(3, fixture.Endpoint.Received.Count - before);
    }

    [Fact]
    public async Task SendCommand_is_retried_when_throttled_and_runs_once()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 5));
        var earlier = fixture.Endpoint.Invocations.Count;
        var before = fixture.Endpoint.Received.Count;
        fixture.Endpoint.ThrottleNext(2);

        var result = await fixture.Host(ssm).RunAsync("echo once");

        Assert.Equal(["once"], result.Lines);
        Assert.Equal(3, fixture.Endpoint.Received.Skip(before).Count(t => t == "AmazonSSM.SendCommand"));
        Assert.Equal(earlier + 1, fixture.Endpoint.Invocations.Count);
    }

    [Fact]
    public async Task SendCommand_is_not_retried_after_a_server_error_which_may_have_run_it()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 5));
        var before = fixture.Endpoint.Received.Count;
        fixture.Endpoint.FailNext(1);

        var error = await Assert.ThrowsAsync<AwsException>(() => fixture.Host(ssm).RunAsync("echo never"));

        Assert.Equal("SSM SendCommand failed: InternalServerError: Internal error (test endpoint was told to fail)", error.Message);
        Assert.Equal(500, error.StatusCode);
        Assert.Equal(1, fixture.Endpoint.Received.Count - before);
    }

    [Fact]
    public async Task Client_errors_are_not_retried()
    {
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 5));
        var before = fixture.Endpoint.Received.Count;

        await Assert.ThrowsAsync<AwsException>(() => ssm.GetCommandInvocationAsync("no-such-command", EndpointFixture.Instance));

        Assert.Equal(1, fixture.Endpoint.Received.Count - before);
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_in_one_line_after_bounded_retries()
    {
        // A claimed port that was free a moment ago: nothing listens there.
        var port = TestSupport.TestPorts.Next();
        using var ssm = new SsmClient(fixture.Settings(maxAttempts: 2) with { SsmEndpoint = new Uri($"http://127.0.0.1:{port}/") });

        var error = await Assert.ThrowsAsync<AwsException>(() => ssm.PutParameterAsync("/unreachable", "v"));

        Assert.StartsWith($"SSM PutParameter failed: Unreachable: http://127.0.0.1:{port}: ", error.Message);
        Assert.Equal(0, error.StatusCode);
    }
}
