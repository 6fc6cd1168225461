using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aws.TestEndpoint;

/// <summary>
/// The ECR registry host, <c>&lt;account&gt;.dkr.ecr.&lt;region&gt;.amazonaws.com</c>: the Docker Registry HTTP API v2
/// over TLS (a certificate for that name, from a test CA), Basic auth with the GetAuthorizationToken login, ECR's 401
/// challenge otherwise, pushes only into repositories CreateRepository made, and the OCI 1.1 referrers API. Blobs and
/// manifests live in the endpoint's backing registry (plain http on loopback), the same one BatchGetImage and PutImage
/// use, so the API and the registry host see the same images. Its name resolves through <see cref="EgressProxy"/>.
/// </summary>
public sealed partial class EcrRegistryHost : IAsyncDisposable
{
    readonly WebApplication app;
    readonly AwsTestEndpoint endpoint;
    readonly HttpClient backing = new(new HttpClientHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
    /// <summary>(repository, subject digest) → the descriptors of the manifests that name it as their subject.</summary>
    readonly ConcurrentDictionary<(string, string), ConcurrentDictionary<string, JsonObject>> referrers = new();
    readonly ConcurrentQueue<string> received = new();

    EcrRegistryHost(WebApplication app, AwsTestEndpoint endpoint)
    {
        this.app = app;
        this.endpoint = endpoint;
    }

    /// <summary>The registry host name, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com.</summary>
    public string Host => endpoint.EcrProxyEndpoint.Host;

    /// <summary>Where the front really listens (127.0.0.1 and a free port); <see cref="EgressProxy"/> maps Host:443 here.</summary>
    public IPEndPoint Listening { get; private set; } = null!;

    /// <summary>Every request, as "METHOD path status", in order (no headers: they carry the password).</summary>
    public IReadOnlyList<string> Received => received.ToArray();

    /// <summary>Starts the front with <paramref name="certificate"/> (with its private key; it must name <see cref="Host"/>).</summary>
    public static async Task<EcrRegistryHost> StartAsync(AwsTestEndpoint endpoint, X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options =>
        {
            options.Limits.MaxRequestBodySize = null;
            options.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        var app = builder.Build();
        var host = new EcrRegistryHost(app, endpoint);
        app.Run(host.HandleAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        host.Listening = new IPEndPoint(IPAddress.Loopback, address.Port);
        return host;
    }

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        try
        {
            await RouteAsync(context);
        }
        finally
        {
            received.Enqueue($"{request.Method} {request.Path}{request.QueryString} {context.Response.StatusCode}");
        }
    }

    async Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        if (!path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (!Authorized(request))
        {
            // ECR's answer to a request without (or with a wrong) login: Basic, realm = the registry URL.
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Basic realm=\"https://{Host}/\",service=\"ecr.amazonaws.com\"";
            await context.Response.WriteAsync("Not Authorized\n");
            return;
        }
        if (path == "/v2/")
        {
            context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
            await context.Response.WriteAsJsonAsync(new JsonObject());
            return;
        }
        var match = RepositoryPath().Match(path);
        if (!match.Success)
        {
            await Error(context, 404, "NAME_UNKNOWN", $"No repository in the path '{path}'");
            return;
        }
        var repository = match.Groups["name"].Value;
        if (!endpoint.Ecr.RepositoryNames.Contains(repository))
        {
            await Error(context, 404, "NAME_UNKNOWN", $"The repository with name '{repository}' does not exist in the registry with id '{AwsTestEndpoint.Account}'");
            return;
        }
        if (match.Groups["kind"].Value == "referrers" && request.Method == "GET")
        {
            await ReferrersAsync(context, repository, match.Groups["rest"].Value, request.Query["artifactType"].ToString());
            return;
        }
        var manifest = match.Groups["kind"].Value == "manifests" && request.Method == "PUT";
        await ForwardAsync(context, repository, manifest);
    }

    bool Authorized(HttpRequest request)
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{endpoint.EcrUsername}:{endpoint.EcrPassword}"));
        var given = request.Headers.Authorization.ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
    }

    /// <summary>To the backing registry, with this host's name and scheme, so the Location headers it writes name
    /// https://&lt;ECR host&gt;/… (distribution honours Host and X-Forwarded-Proto).</summary>
    async Task ForwardAsync(HttpContext context, string repository, bool manifest)
    {
        var request = context.Request;
        var backingRegistry = endpoint.Ecr.BackingRegistry ?? throw new InvalidOperationException("The test endpoint has no backing registry for images");
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{backingRegistry}{request.Path}{request.QueryString}");
        byte[]? manifestBytes = null;
        if (manifest)
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
            manifestBytes = buffer.ToArray();
            forward.Content = new ByteArrayContent(manifestBytes);
        }
        else if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
            forward.Content = new StreamContent(request.Body);
        foreach (var (name, values) in request.Headers)
        {
            if (name is "Host" or "Authorization" or "Expect" or "Connection" or "Transfer-Encoding") continue;
            if (!forward.Headers.TryAddWithoutValidation(name, values.ToArray()))
                forward.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
        forward.Headers.Host = Host;
        forward.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");

        using var response = await backing.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            if (name is not ("Transfer-Encoding" or "Connection"))
                context.Response.Headers[name] = values.ToArray();
        if (manifestBytes is not null && response.IsSuccessStatusCode && Subject(manifestBytes) is { } subject)
        {
            referrers.GetOrAdd((repository, subject.Digest), _ => new())[subject.Descriptor["digest"]!.GetValue<string>()] = subject.Descriptor;
            context.Response.Headers["OCI-Subject"] = subject.Digest;
        }
        if (request.Method != "HEAD")
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>A manifest with a subject: the subject's digest and the manifest's own descriptor as the referrers
    /// API lists it (artifactType: its own, else its config's media type; its annotations).</summary>
    static (string Digest, JsonObject Descriptor)? Subject(byte[] manifest)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(manifest);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        if (node?["subject"]?["digest"]?.GetValue<string>() is not { } subject) return null;
        var descriptor = new JsonObject
        {
            ["mediaType"] = node["mediaType"]?.GetValue<string>() ?? "application/vnd.oci.image.manifest.v1+json",
            ["digest"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest)),
            ["size"] = manifest.Length,
            ["artifactType"] = node["artifactType"]?.GetValue<string>() ?? node["config"]?["mediaType"]?.GetValue<string>(),
        };
        if (node["annotations"] is JsonObject annotations) descriptor["annotations"] = annotations.DeepClone();
        return (subject, descriptor);
    }

    /// <summary>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;[?artifactType=…]: an OCI image index of the referrers
    /// (empty when there are none), filtered by artifactType when asked (OCI-Filters-Applied).</summary>
    async Task ReferrersAsync(HttpContext context, string repository, string digest, string artifactType)
    {
        var list = referrers.TryGetValue((repository, digest), out var found) ? found.Values.ToList() : [];
        if (artifactType.Length > 0)
        {
            list = list.Where(d => d["artifactType"]?.GetValue<string>() == artifactType).ToList();
            context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        }
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray(list.Select(d => (JsonNode)d.DeepClone()).ToArray()),
        };
        context.Response.ContentType = "application/vnd.oci.image.index.v1+json";
        await context.Response.WriteAsync(index.ToJsonString());
    }

    static async Task Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }),
        });
    }

    [GeneratedRegex("^/v2/(?<name>.+)/(?<kind>manifests|blobs|tags|referrers)/(?<rest>.*)$")]
    private static partial Regex RepositoryPath();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        backing.Dispose();
    }
}
