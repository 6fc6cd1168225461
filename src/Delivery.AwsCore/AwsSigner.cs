using Amazon.Runtime;
using Amazon.Runtime.Endpoints;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Delivery.Aws;

/// <summary>
/// Signs a request with AWSSDK.Core's SigV4 signer. The SDK signs its own request type, so the request is described
/// to it (endpoint, path, headers, body), signed, and the headers it produced are copied onto the HTTP request.
/// </summary>
sealed class AwsSigner(AwsService service, string region)
{
    readonly SigningConfig config = new(service.SigningName, region);
    readonly AWS4Signer signer = new();

    /// <summary>The headers to send: the ones given plus Host, X-Amz-Date, the token and Authorization.</summary>
    public IReadOnlyDictionary<string, string> Sign(
        Uri endpoint, IReadOnlyDictionary<string, string> headers, byte[] body, ImmutableCredentials credentials)
    {
        var request = new DefaultRequest(new SignedOperation(), service.SigningName)
        {
            Endpoint = new Uri(endpoint.GetLeftPart(UriPartial.Authority)),
            ResourcePath = endpoint.AbsolutePath,
            HttpMethod = "POST",
            Content = body,
            AuthenticationRegion = region,
        };
        foreach (var (name, value) in headers) request.Headers[name] = value;
        if (credentials.UseToken) request.Headers["X-Amz-Security-Token"] = credentials.Token;
        var result = signer.SignRequest(request, config, null, credentials.AccessKey, credentials.SecretKey);
        request.Headers["Authorization"] = result.ForAuthorizationHeader;
        return new Dictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase);
    }

    sealed class SignedOperation : AmazonWebServiceRequest;

    /// <summary>Only what the signer reads: the service's signing name and the region.</summary>
    sealed class SigningConfig : ClientConfig
    {
        readonly string signingName;

        public SigningConfig(string signingName, string region)
            : base(new DefaultConfigurationProvider([new DefaultConfiguration { Name = DefaultConfigurationMode.Standard }]))
        {
            this.signingName = signingName;
            AuthenticationServiceName = signingName;
            AuthenticationRegion = region;
        }

        public override string ServiceVersion => "1";
        public override string UserAgent => "Delivery.Aws";
        public override string RegionEndpointServiceName => signingName;
        public override Endpoint DetermineServiceOperationEndpoint(ServiceOperationEndpointParameters parameters) =>
            throw new NotSupportedException("Endpoints are resolved by the Delivery.Aws clients.");
    }
}
