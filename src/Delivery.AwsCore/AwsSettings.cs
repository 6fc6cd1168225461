using Amazon;
using Amazon.Runtime;
using Delivery.Core;

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

    /// <summary>Attempts per request, the first included. 1 means no retry at all.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First retry delay; later ones grow exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Per-request HTTP timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Endpoints the standard way, as the AWS SDKs and CLI read them: AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_ECR for
    /// one service, else <paramref name="endpointUrl"/> (the --aws-endpoint-url parameter, or AWS_ENDPOINT_URL).
    /// </summary>
    public static AwsSettings Resolve(string region, AWSCredentials credentials, string? endpointUrl = null)
    {
        string? Variable(string name) => System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var global = endpointUrl is { Length: > 0 } ? endpointUrl : Variable("AWS_ENDPOINT_URL");
        return new AwsSettings
        {
            Region = region,
            Credentials = credentials,
            SsmEndpoint = Url(Variable("AWS_ENDPOINT_URL_SSM") ?? global, "AWS_ENDPOINT_URL_SSM"),
            EcrEndpoint = Url(Variable("AWS_ENDPOINT_URL_ECR") ?? global, "AWS_ENDPOINT_URL_ECR"),
        };
    }

    static Uri? Url(string? text, string what) =>
        text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url
        : throw new DeliveryException($"AWS endpoint '{text}' ({what} or --aws-endpoint-url) is not an http(s) URL");

    /// <summary>A region AWS knows, unless an endpoint override points elsewhere (a test endpoint signs for any name).</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Region))
            throw new DeliveryException("No AWS region: set --aws-region (or AWS_REGION)");
        if (MaxAttempts < 1) throw new DeliveryException($"AWS max attempts must be at least 1, not {MaxAttempts}");
        if (!RegionEndpoint.EnumerableAllRegions.Any(r => r.SystemName == Region))
            throw new DeliveryException($"Unknown AWS region '{Region}' (expected a name such as eu-west-1)");
    }

    // Redacts the credentials object: a record's generated ToString would otherwise print whatever it prints.
    public override string ToString() => $"AwsSettings {{ Region = {Region}, SsmEndpoint = {SsmEndpoint}, EcrEndpoint = {EcrEndpoint} }}";
}
