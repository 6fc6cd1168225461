using Amazon.Runtime;

namespace Delivery.Aws;

/// <summary>Where and as whom the AWS clients talk.</summary>
public sealed record AwsSettings
{
    /// <summary>The region requests are signed for and sent to, e.g. "eu-west-1".</summary>
    public required string Region { get; init; }

    /// <summary>Credentials from AWSSDK.Core, usually <see cref="AwsCredentialChain.Default"/>.</summary>
    public required AWSCredentials Credentials { get; init; }

    /// <summary>Overrides the public SSM endpoint (a VPC endpoint, or a test endpoint).</summary>
    public Uri? SsmEndpoint { get; init; }

    /// <summary>Overrides the public ECR API endpoint.</summary>
    public Uri? EcrEndpoint { get; init; }

    /// <summary>Attempts per request, the first included, when AWS throttles or fails with 5xx.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First retry delay; later ones grow exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Per-request HTTP timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    // Redacts the credentials object: a record's generated ToString would otherwise print whatever it prints.
    public override string ToString() => $"AwsSettings {{ Region = {Region}, SsmEndpoint = {SsmEndpoint}, EcrEndpoint = {EcrEndpoint} }}";
}
