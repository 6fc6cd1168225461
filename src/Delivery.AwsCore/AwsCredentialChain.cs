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
    readonly IReadOnlyList<Func<AWSCredentials>> sources;

    public AwsCredentialChain(params AWSCredentials[] sources) : this(sources.Select(s => (Func<AWSCredentials>)(() => s)).ToArray()) { }

    /// <summary>Sources created when credentials are needed: some SDK sources, such as
    /// <see cref="EnvironmentVariablesAWSCredentials"/>, read their input in their constructor and throw when it is missing.</summary>
    public AwsCredentialChain(params Func<AWSCredentials>[] sources)
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
            throw new DeliveryException($"No AWS credentials found (tried environment variables, profile, SSO, web identity, container and instance role): {AwsErrors.OneLine(ex.Message)}", ex);
        }
    }

    // A constructor that threw leaves no instance to name: the SDK type that threw is the source.
    static string SourceName(Exception ex) =>
        ex.TargetSite?.DeclaringType is { Namespace: "Amazon.Runtime" } type ? type.Name : "credential source";

    public override ImmutableCredentials GetCredentials() => GetCredentialsAsync().GetAwaiter().GetResult();

    public override async Task<ImmutableCredentials> GetCredentialsAsync()
    {
        var failures = new List<string>();
        foreach (var create in sources)
        {
            AWSCredentials? source = null;
            try
            {
                source = create();
                var credentials = await source.GetCredentialsAsync();
                if (credentials is { AccessKey.Length: > 0, SecretKey.Length: > 0 }) return credentials;
                failures.Add($"{source.GetType().Name}: empty credentials");
            }
            catch (Exception ex) when (ex is AmazonClientException or AmazonServiceException or InvalidOperationException)
            {
                // The SDK's messages name the missing variable or profile, never a key.
                failures.Add($"{source?.GetType().Name ?? SourceName(ex)}: {ex.Message}");
            }
        }
        throw new DeliveryException($"No AWS credentials found: {string.Join("; ", failures)}");
    }
}
