using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Delivery.Core;

namespace Delivery.Aws;

/// <summary>
/// Credentials resolved by AWSSDK.Core: the SDK's default chain (environment variables, profile, web identity,
/// container and instance roles), or an explicit list of sources tried in order.
/// </summary>
public sealed class AwsCredentialChain : AWSCredentials
{
    readonly IReadOnlyList<AWSCredentials> sources;

    public AwsCredentialChain(params AWSCredentials[] sources)
    {
        if (sources.Length == 0) throw new ArgumentException("At least one credential source is needed.", nameof(sources));
        this.sources = sources;
    }

    /// <summary>The SDK's default chain, as the AWS CLI and SDKs resolve it.</summary>
    public static AWSCredentials Default()
    {
        try
        {
            return DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        catch (AmazonClientException ex)
        {
            throw new DeliveryException($"No AWS credentials found (environment variables, profile or instance role): {ex.Message}", ex);
        }
    }

    public override ImmutableCredentials GetCredentials() => GetCredentialsAsync().GetAwaiter().GetResult();

    public override async Task<ImmutableCredentials> GetCredentialsAsync()
    {
        var failures = new List<string>();
        foreach (var source in sources)
        {
            try
            {
                var credentials = await source.GetCredentialsAsync();
                if (credentials is { AccessKey.Length: > 0, SecretKey.Length: > 0 }) return credentials;
                failures.Add($"{source.GetType().Name}: empty");
            }
            catch (Exception ex) when (ex is AmazonClientException or AmazonServiceException or InvalidOperationException)
            {
                // The SDK's messages name the missing variable or profile, never a key.
                failures.Add($"{source.GetType().Name}: {ex.Message}");
            }
        }
        throw new DeliveryException($"No AWS credentials found: {string.Join("; ", failures)}");
    }
}
