using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>
/// A small Docker token issuer on loopback (the registry's realm): checks Basic credentials, grants the scopes
/// asked for, and signs RS256 JWTs with the certificate the registry trusts (its <c>rootcertbundle</c>), sent in
/// the x5c header. Records every scope it was asked for and by whom.
/// </summary>
public sealed class TokenIssuer : IDisposable
{
    public const string Service = "delivery-test-registry";
    public const string IssuerName = "delivery-test-issuer";

    readonly HttpListener listener = new();
    readonly PemPair signing;
    readonly string username, password;
    readonly Task loop;

    public TokenIssuer(PemPair signing, string username, string password)
    {
        this.signing = signing;
        this.username = username;
        this.password = password;
        var port = TestSupport.Tools.FreePort();
        Realm = $"http://127.0.0.1:{port}/token";
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public string Realm { get; }

    /// <summary>(user or "anonymous", scope, user-agent) per token request, in order.</summary>
    public ConcurrentQueue<(string User, string Scope, string Agent)> Requests { get; } = new();

    async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (!listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            try
            {
                Answer(context);
            }
            catch (Exception)
            {
                context.Response.StatusCode = 500;
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    void Answer(HttpListenerContext context)
    {
        var query = context.Request.QueryString;
        var user = "anonymous";
        if (context.Request.Headers["Authorization"] is { } header && header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
            var colon = decoded.IndexOf(':');
            if (decoded[..colon] != username || decoded[(colon + 1)..] != password)
            {
                Requests.Enqueue((decoded[..colon] + " (refused)", query["scope"] ?? "", context.Request.UserAgent ?? ""));
                context.Response.StatusCode = 401;
                return;
            }
            user = username;
        }
        var scopes = query.GetValues("scope") ?? [];
        foreach (var scope in scopes) Requests.Enqueue((user, scope, context.Request.UserAgent ?? ""));
        if (query["service"] != Service)
        {
            context.Response.StatusCode = 400;
            return;
        }
        // Anonymous callers get a token without access, as real issuers do for private repositories.
        var access = new JsonArray();
        if (user != "anonymous")
            foreach (var scope in scopes)
            {
                var parts = scope.Split(':');
                if (parts.Length == 3)
                    access.Add(new JsonObject
                    {
                        ["type"] = parts[0], ["name"] = parts[1],
                        ["actions"] = new JsonArray(parts[2].Split(',').Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
                    });
            }
        var token = Sign(user, access);
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["token"] = token, ["access_token"] = token, ["expires_in"] = 300 }.ToJsonString());
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    string Sign(string subject, JsonArray access)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject
        {
            ["typ"] = "JWT", ["alg"] = "RS256",
            ["x5c"] = new JsonArray(Convert.ToBase64String(signing.Certificate.RawData)),
        };
        var claims = new JsonObject
        {
            ["iss"] = IssuerName, ["sub"] = subject, ["aud"] = Service,
            ["exp"] = now + 300, ["nbf"] = now - 10, ["iat"] = now, ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = signing.Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        if (!listener.IsListening) return;
        listener.Stop();
        listener.Close();
        try { loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
