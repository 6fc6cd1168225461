using Aws.TestEndpoint;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>The AWS test endpoint (SigV4 checked, ECR login) for one test class.</summary>
public sealed class AwsEndpointFixture : IAsyncLifetime
{
    public AwsTestEndpoint Endpoint { get; private set; } = null!;

    public async Task InitializeAsync() => Endpoint = await AwsTestEndpoint.StartAsync();

    public async Task DisposeAsync() => await Endpoint.DisposeAsync();
}

/// <summary>
/// An ECR registry needs no registry password: the build asks ECR for a token with the AWS credential chain, as the
/// OIDC-authenticated CI jobs do. The API endpoint is the test endpoint (AWS_ENDPOINT_URL_ECR); the registry host
/// itself cannot be reached from here, so each run ends at the registry, after the login.
/// </summary>
[Collection(CloneCollection.Name)]
public sealed class EcrLoginTests(CloneFixture clone, AwsEndpointFixture aws) : CloneTests(clone), IClassFixture<AwsEndpointFixture>
{
    const string Registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    const string EcrPassword = "ecr-token-password-that-must-never-print";

    Task<BuildRun> PromoteFromEcrAsync(string secretKey)
    {
        aws.Endpoint.EcrPassword = EcrPassword;
        var environment = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = secretKey,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_ENDPOINT_URL"] = null,
            ["AWS_ENDPOINT_URL_ECR"] = aws.Endpoint.Url.ToString(),
        };
        return Clone.BuildAsync(environment, "DeployProduction", "--skip", "--promote-version", "1.2.3", "--registry", Registry);
    }

    [Fact]
    public async Task An_ECR_registry_is_signed_in_to_with_a_token_from_the_AWS_credential_chain()
    {
        var before = aws.Endpoint.Received.Count;

        var run = await PromoteFromEcrAsync(AwsTestEndpoint.SecretKey);

        Assert.Contains(run.OutputLines, l => l.StartsWith($"Signed in to {Registry} as AWS with an ECR token (valid until ", StringComparison.Ordinal));
        Assert.Contains(aws.Endpoint.Received.Skip(before), r => r.Contains("GetAuthorizationToken", StringComparison.Ordinal));
        var message = BuildAssert.TargetFailure(run, "DeployProduction");
        Assert.StartsWith($"Registry {Registry} is not reachable: ", message);
        BuildAssert.DoesNotContain(run, EcrPassword);
        BuildAssert.DoesNotContain(run, AwsTestEndpoint.SecretKey);
    }

    [Fact]
    public async Task A_wrong_AWS_secret_fails_in_one_line_that_does_not_print_it()
    {
        const string wrongSecret = "wrong/secret+key-that-must-never-print";

        var run = await PromoteFromEcrAsync(wrongSecret);

        var message = BuildAssert.TargetFailure(run, "DeployProduction");
        Assert.StartsWith("ECR GetAuthorizationToken failed: ", message);
        Assert.DoesNotContain(run.OutputLines, l => l.StartsWith("Signed in to", StringComparison.Ordinal));
        BuildAssert.DoesNotContain(run, wrongSecret);
    }
}
