using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime.Internal.Auth;
using Amazon.Util;
using Microsoft.AspNetCore.Http;

namespace Aws.TestEndpoint;

/// <summary>
/// Checks SigV4 the way AWS does: the canonical request is rebuilt from what arrived on the wire (method, path,
/// query, the signed headers, the body's hash), and AWSSDK.Core computes the signature from it with the secret key
/// this endpoint knows for the access key. Building from the wire, not from the client's own request object, is
/// what catches a header changed after signing.
/// </summary>
sealed partial class SignatureVerifier(
    IReadOnlyDictionary<string, string> secretKeys, string region,
    IReadOnlyDictionary<string, string> sessionTokens, IReadOnlyDictionary<string, bool> expiredTokens)
{
    static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    /// <summary>Null when the signature is right, otherwise the AWS error (code and message).</summary>
    public (int Status, string Code, string Message)? Verify(HttpRequest request, byte[] body, string? expectedService)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length == 0)
            return (403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        var match = AuthorizationPattern().Match(authorization);
        if (!match.Success)
            return (400, "InvalidSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' (AWS4-HMAC-SHA256).");

        var accessKey = match.Groups["key"].Value;
        var date = match.Groups["date"].Value;
        var scopeRegion = match.Groups["region"].Value;
        var service = match.Groups["service"].Value;
        var signedHeaders = match.Groups["headers"].Value;
        var signature = match.Groups["signature"].Value;

        if (!secretKeys.TryGetValue(accessKey, out var secretKey))
            return (400, "UnrecognizedClientException", "The security token included in the request is invalid.");
        // Temporary credentials: the session token must come with its key, signed, and not be expired.
        var sessionToken = request.Headers["X-Amz-Security-Token"].ToString();
        if (sessionTokens.TryGetValue(accessKey, out var expectedToken))
        {
            if (sessionToken.Length == 0 || !signedHeaders.Split(';').Contains("x-amz-security-token")
                || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sessionToken), Encoding.UTF8.GetBytes(expectedToken)))
                return (400, "UnrecognizedClientException", "The security token included in the request is invalid.");
            if (expiredTokens.ContainsKey(sessionToken))
                return (400, "ExpiredTokenException", "The security token included in the request is expired");
        }
        else if (sessionToken.Length > 0)
            return (400, "UnrecognizedClientException", "The security token included in the request is invalid.");
        if (scopeRegion != region)
            return (400, "InvalidSignatureException", $"Credential should be scoped to a valid region, not '{scopeRegion}'.");
        if (expectedService is not null && service != expectedService)
            return (400, "InvalidSignatureException", $"Credential should be scoped to correct service: '{expectedService}'.");

        var amzDate = request.Headers["X-Amz-Date"].ToString();
        if (!DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
            return (400, "IncompleteSignatureException", "Missing or malformed X-Amz-Date.");
        if (!amzDate.StartsWith(date, StringComparison.Ordinal))
            return (400, "InvalidSignatureException", "Date in Credential scope does not match the X-Amz-Date header.");
        if ((DateTime.UtcNow - signedAt).Duration() > MaxSkew)
            return (400, "InvalidSignatureException", "Signature expired: the request time is more than 15 minutes from the server time.");

        var headerNames = signedHeaders.Split(';');
        if (!headerNames.Contains("host") || !headerNames.Contains("x-amz-date"))
            return (400, "InvalidSignatureException", "'Host' and 'X-Amz-Date' must be signed.");

        var canonical = new StringBuilder()
            .Append(request.Method).Append('\n')
            .Append(string.IsNullOrEmpty(request.Path.Value) ? "/" : request.Path.Value).Append('\n')
            .Append(CanonicalQuery(request)).Append('\n');
        foreach (var name in headerNames)
            canonical.Append(name).Append(':').Append(CanonicalValue(request.Headers[name].ToString())).Append('\n');
        canonical.Append('\n').Append(signedHeaders).Append('\n')
            .Append(AWSSDKUtils.ToHex(AWS4Signer.ComputeHash(body), true));

        var expected = AWS4Signer.ComputeSignature(accessKey, secretKey, region, signedAt, service, signedHeaders, canonical.ToString());
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected.Signature), Encoding.ASCII.GetBytes(signature))
            ? null
            : (400, "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.");
    }

    static string CanonicalQuery(HttpRequest request) =>
        string.Join("&", request.Query
            .SelectMany(p => p.Value.Select(v => (Key: Uri.EscapeDataString(p.Key), Value: Uri.EscapeDataString(v ?? ""))))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}"));

    static string CanonicalValue(string value) => Spaces().Replace(value.Trim(), " ");

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request,\s*SignedHeaders=(?<headers>[a-z0-9;-]+),\s*Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
