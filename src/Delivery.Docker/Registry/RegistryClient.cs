using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>A manifest exactly as the registry stores it: its bytes, media type and digest.</summary>
public sealed record RegistryManifest(byte[] Content, string MediaType, string Digest);

/// <summary>
/// The registry HTTP API (distribution v2) for one registry host: manifest HEAD/GET/PUT and tagging an existing
/// manifest without moving layers. https by default; plain http only for loopback and the daemon's insecure
/// registries. Auth as the registry asks: Basic, or the Docker token flow (a token per repository scope from the
/// realm, with the credentials as Basic, or anonymously). Every failure is a one-line <see cref="DeliveryException"/>
/// that names the registry and scheme, never the password.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    public static readonly string[] ManifestMediaTypes =
    [
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    ];

    readonly RegistryAuth auth;
    readonly RegistryTrust trust;
    readonly HttpClient http;
    readonly Dictionary<string, string> tokens = new(StringComparer.Ordinal);
    string? baseUrl;
    AuthChallenge? challenge;

    public RegistryClient(string registry, RegistryAuth? auth = null, RegistryClientOptions? options = null)
    {
        options ??= new RegistryClientOptions();
        Registry = registry;
        this.auth = auth ?? RegistryAuth.Anonymous;
        trust = new RegistryTrust(registry, options);
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = true,
            ServerCertificateCustomValidationCallback = trust.Validate,
        };
        http = new HttpClient(handler) { Timeout = options.Timeout };
    }

    public string Registry { get; }

    /// <summary>"https" or "http", once the first call chose it.</summary>
    public string? Scheme => baseUrl is null ? null : new Uri(baseUrl).Scheme;

    /// <summary>The scopes this client asked token realms for, in order (for tests and logs).</summary>
    public List<string> RequestedScopes { get; } = [];

    /// <summary>The manifest's digest, or null when the registry has no such tag or digest.</summary>
    public async Task<string?> GetDigestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(repository, Pull, () => ManifestRequest(HttpMethod.Head, repository, reference), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccess(response, repository, $"HEAD manifest {reference}", cancellationToken);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()
            : throw new DeliveryException($"Registry {Registry} ({Scheme}) answered HEAD {repository}:{reference} without a Docker-Content-Digest header");
    }

    /// <summary>The manifest's digest; a missing tag is a one-line error.</summary>
    public async Task<string> ResolveDigestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        await GetDigestAsync(repository, reference, cancellationToken) ?? throw NotFound(repository, reference);

    /// <summary>The stored manifest's bytes and media type, unchanged (its digest is checked against the bytes).</summary>
    public async Task<RegistryManifest> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(repository, Pull, () => ManifestRequest(HttpMethod.Get, repository, reference), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) throw NotFound(repository, reference);
        await EnsureSuccess(response, repository, $"GET manifest {reference}", cancellationToken);
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType
                        ?? throw new DeliveryException($"Registry {Registry} ({Scheme}) sent manifest {repository}:{reference} without a media type");
        var digest = DigestOf(content);
        if (reference.StartsWith("sha256:", StringComparison.Ordinal) && digest != reference)
            throw new DeliveryException($"Registry {Registry} ({Scheme}) sent manifest bytes for {repository}@{reference} whose digest is {digest}");
        return new RegistryManifest(content, mediaType, digest);
    }

    /// <summary>Stores <paramref name="manifest"/> under <paramref name="tag"/> (same bytes, same media type) and
    /// returns the digest the registry reports, which must be the manifest's own.</summary>
    public async Task<string> PutManifestAsync(string repository, string tag, RegistryManifest manifest, CancellationToken cancellationToken = default)
    {
        if (!ImageReference.IsValidTag(tag)) throw new DeliveryException($"'{tag}' is not a valid image tag");
        using var response = await SendAsync(repository, PullPush, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/v2/{repository}/manifests/{tag}")
            {
                Content = new ByteArrayContent(manifest.Content),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            return request;
        }, cancellationToken);
        await EnsureSuccess(response, repository, $"PUT manifest {tag}", cancellationToken);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : manifest.Digest;
        if (digest != manifest.Digest)
            throw new DeliveryException($"Registry {Registry} ({Scheme}) stored {repository}:{tag} as {digest}, not as {manifest.Digest}");
        return digest;
    }

    /// <summary>Adds <paramref name="tags"/> to the manifest <paramref name="digest"/>: GET by digest, PUT of the same
    /// bytes per tag. No layer moves. Each tag is then read back and must resolve to the same digest.</summary>
    public async Task TagAsync(string repository, string digest, IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        var manifest = await GetManifestAsync(repository, digest, cancellationToken);
        var list = tags.ToList();
        foreach (var tag in list) await PutManifestAsync(repository, tag, manifest, cancellationToken);
        foreach (var tag in list)
            if (await ResolveDigestAsync(repository, tag, cancellationToken) is var resolved && resolved != digest)
                throw new DeliveryException($"{Registry}/{repository}:{tag} is {resolved} after tagging, not {digest}");
    }

    public static string DigestOf(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    const string Pull = "pull";
    const string PullPush = "pull,push";

    HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, $"{baseUrl}/v2/{repository}/manifests/{reference}");
        foreach (var type in ManifestMediaTypes) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        return request;
    }

    DeliveryException NotFound(string repository, string reference) =>
        new($"{Registry}/{repository}{(reference.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":")}{reference} is not in the registry ({Scheme})");

    async Task EnsureSuccess(HttpResponseMessage response, string repository, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var detail = "";
        if (response.Content.Headers.ContentLength is null or > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                {
                    var first = errors[0];
                    detail = ": " + string.Join(" ", new[] { "code", "message" }
                        .Select(n => first.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null).OfType<string>());
                }
            }
            catch (JsonException) { }
        }
        if (response.StatusCode == HttpStatusCode.Forbidden)
            throw new DeliveryException($"Registry {Registry} ({Scheme}) denied {what} in repository {repository}{(auth.IsAnonymous ? "" : $" to {auth.Username}")}{detail}");
        throw new DeliveryException($"Registry {Registry} ({Scheme}) answered {(int)response.StatusCode} {response.ReasonPhrase} to {what} in repository {repository}{detail}");
    }

    public void Dispose() => http.Dispose();
}
