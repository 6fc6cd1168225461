using Amazon.Runtime;
using Aws.TestEndpoint;

namespace Delivery.Aws.Tests;

/// <summary>One AWS test endpoint (real Kestrel on loopback) per test class.</summary>
public sealed class EndpointFixture : IAsyncLifetime
{
    public const string Instance = "i-0123456789abcdef0";

    public AwsTestEndpoint Endpoint { get; private set; } = null!;

    public AwsSettings Settings(AWSCredentials? credentials = null, int maxAttempts = 5) => new()
    {
        Region = Endpoint.Region,
        Credentials = credentials ?? new BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey),
        SsmEndpoint = Endpoint.Url,
        EcrEndpoint = Endpoint.Url,
        MaxAttempts = maxAttempts,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
    };

    public SsmHost Host(SsmClient ssm, string instance = Instance) => new(ssm, instance) { PollInterval = TimeSpan.FromMilliseconds(100) };

    public async Task InitializeAsync() => Endpoint = await AwsTestEndpoint.StartAsync();

    public async Task DisposeAsync() => await Endpoint.DisposeAsync();
}
