using Amazon.Runtime;
using Aws.TestEndpoint;
using Delivery.Aws;

namespace Delivery.Docker.Tests.Integration.Ecr;

/// <summary>One AWS test endpoint (real Kestrel on loopback, SigV4 verified) per test class, answering ECR.</summary>
public sealed class EcrEndpointFixture : IAsyncLifetime
{
    public AwsTestEndpoint Endpoint { get; private set; } = null!;

    public AwsSettings Settings() => new()
    {
        Region = Endpoint.Region,
        Credentials = new BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey),
        EcrEndpoint = Endpoint.Url,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
    };

    public async Task InitializeAsync() => Endpoint = await AwsTestEndpoint.StartAsync();

    public async Task DisposeAsync() => await Endpoint.DisposeAsync();
}
