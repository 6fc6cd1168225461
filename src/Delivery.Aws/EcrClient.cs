using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Delivery.Aws;

/// <summary>
/// A registry login from ECR. <see cref="Password"/> is a secret (a 12-hour token): it is never part of
/// <see cref="ToString"/> or of any message.
/// </summary>
public sealed class EcrAuthorization(string username, string password, Uri proxyEndpoint, DateTimeOffset expiresAt)
{
    public string Username { get; } = username;
    public string Password { get; } = password;

    /// <summary>The registry URL, e.g. https://123456789012.dkr.ecr.eu-west-1.amazonaws.com.</summary>
    public Uri ProxyEndpoint { get; } = proxyEndpoint;

    /// <summary>The registry host to log in to and push to (no scheme).</summary>
    public string Registry => ProxyEndpoint.IsDefaultPort ? ProxyEndpoint.Host : $"{ProxyEndpoint.Host}:{ProxyEndpoint.Port}";

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    public override string ToString() => $"ECR login {Username}@{Registry} (password ***), expires {ExpiresAt:u}";
}

/// <summary>The part of the ECR API that pushes need: a registry login.</summary>
public sealed class EcrClient : IDisposable
{
    const string Operation = "GetAuthorizationToken";
    readonly AwsJsonClient client;

    public EcrClient(AwsSettings settings) => client = new AwsJsonClient(AwsService.Ecr, settings, settings.EcrEndpoint);

    public Uri Endpoint => client.Endpoint;

    /// <summary>A login for the caller's default registry. The token is base64 of "AWS:&lt;password&gt;".</summary>
    public async Task<EcrAuthorization> GetAuthorizationTokenAsync(CancellationToken cancellationToken = default)
    {
        var response = await client.SendAsync(Operation, new JsonObject(), cancellationToken);
        if (!response.TryGetProperty("authorizationData", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw Invalid("the response has no authorizationData");
        var data = list[0];
        var token = SsmClient.Text(data, "authorizationToken") ?? throw Invalid("the response has no authorizationToken");
        var endpoint = SsmClient.Text(data, "proxyEndpoint") ?? throw Invalid("the response has no proxyEndpoint");

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw Invalid("the authorization token is not base64"); // no detail: the token is the secret
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) throw Invalid("the authorization token is not \"user:password\"");

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var proxyEndpoint))
            throw Invalid($"the proxyEndpoint '{endpoint}' is not a URL");
        var expiresAt = data.TryGetProperty("expiresAt", out var e) && e.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(e.GetDouble() * 1000))
            : DateTimeOffset.UtcNow.AddHours(12);
        return new EcrAuthorization(decoded[..colon], decoded[(colon + 1)..], proxyEndpoint, expiresAt);
    }

    public void Dispose() => client.Dispose();

    static AwsException Invalid(string reason) => new(AwsService.Ecr, Operation, 200, "InvalidResponse", reason);
}
