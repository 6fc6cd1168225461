using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Delivery.Aws;

namespace Delivery.Docker;

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

/// <summary>An ECR repository as DescribeRepositories and CreateRepository report it.</summary>
public sealed record EcrRepository(string Name, string RegistryId, string Uri, bool ScanOnPush, bool ImmutableTags);

/// <summary>An image manifest as BatchGetImage returns it: the exact text, its media type and digest.</summary>
public sealed record EcrImage(string Repository, string Digest, string Manifest, string MediaType);

/// <summary>
/// The small part of the ECR API the pipeline needs, hand-written on AWSSDK.Core's signer (AWSSDK.ECR is not served
/// here): a registry login, repositories that exist before a push, and tags added to an existing manifest
/// (BatchGetImage, then PutImage of the same manifest) without moving layers.
/// </summary>
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
        var token = Text(data, "authorizationToken") ?? throw Invalid("the response has no authorizationToken");
        var endpoint = Text(data, "proxyEndpoint") ?? throw Invalid("the response has no proxyEndpoint");

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

    /// <summary>The repository, or null when it does not exist (RepositoryNotFoundException).</summary>
    public async Task<EcrRepository?> DescribeRepositoryAsync(string registryId, string name, CancellationToken cancellationToken = default)
    {
        JsonElement response;
        try
        {
            response = await client.SendAsync("DescribeRepositories", new JsonObject
            {
                ["registryId"] = registryId,
                ["repositoryNames"] = new JsonArray(name),
            }, cancellationToken);
        }
        catch (AwsException e) when (e.ErrorCode == "RepositoryNotFoundException")
        {
            return null;
        }
        return response.TryGetProperty("repositories", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0
            ? Repository(list[0])
            : null;
    }

    /// <summary>Creates the repository with scan on push; <paramref name="immutableTags"/> makes its tags immutable.</summary>
    public async Task<EcrRepository> CreateRepositoryAsync(string registryId, string name, bool immutableTags, CancellationToken cancellationToken = default)
    {
        var response = await client.SendAsync("CreateRepository", new JsonObject
        {
            ["registryId"] = registryId,
            ["repositoryName"] = name,
            ["imageTagMutability"] = immutableTags ? "IMMUTABLE" : "MUTABLE",
            ["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = true },
        }, cancellationToken, idempotent: false);
        return response.TryGetProperty("repository", out var repository) ? Repository(repository) : throw Invalid("CreateRepository", "the response has no repository");
    }

    /// <summary>DescribeRepositories, then CreateRepository when it is missing. The bool says whether it was created.</summary>
    public async Task<(EcrRepository Repository, bool Created)> EnsureRepositoryAsync(string registryId, string name, bool immutableTags, CancellationToken cancellationToken = default)
    {
        if (await DescribeRepositoryAsync(registryId, name, cancellationToken) is { } existing) return (existing, false);
        try
        {
            return (await CreateRepositoryAsync(registryId, name, immutableTags, cancellationToken), true);
        }
        catch (AwsException e) when (e.ErrorCode == "RepositoryAlreadyExistsException")
        {
            // Another pipeline created it in between.
            return (await DescribeRepositoryAsync(registryId, name, cancellationToken) ?? throw e, false);
        }
    }

    /// <summary>The manifest stored under <paramref name="digest"/> (BatchGetImage), exactly as pushed.</summary>
    public async Task<EcrImage> BatchGetImageAsync(string registryId, string repository, string digest, CancellationToken cancellationToken = default)
    {
        var response = await client.SendAsync("BatchGetImage", new JsonObject
        {
            ["registryId"] = registryId,
            ["repositoryName"] = repository,
            ["imageIds"] = new JsonArray(new JsonObject { ["imageDigest"] = digest }),
            ["acceptedMediaTypes"] = new JsonArray(
                "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"),
        }, cancellationToken);
        if (response.TryGetProperty("images", out var images) && images.ValueKind == JsonValueKind.Array && images.GetArrayLength() > 0)
        {
            var image = images[0];
            var manifest = Text(image, "imageManifest") ?? throw Invalid("BatchGetImage", "the image has no imageManifest");
            var mediaType = Text(image, "imageManifestMediaType") ?? MediaTypeOf(manifest);
            return new EcrImage(repository, digest, manifest, mediaType);
        }
        var reason = response.TryGetProperty("failures", out var failures) && failures.ValueKind == JsonValueKind.Array && failures.GetArrayLength() > 0
            ? $"{Text(failures[0], "failureCode")}: {Text(failures[0], "failureReason")}"
            : "no image";
        throw new AwsException(AwsService.Ecr, "BatchGetImage", 200, "ImageNotFound", $"{repository}@{digest}: {reason}");
    }

    /// <summary>Tags the manifest of <paramref name="image"/> (PutImage of the same text and media type). A tag that
    /// already names this manifest is left as it is.</summary>
    /// <summary>Adds <paramref name="tags"/> to the image <paramref name="digest"/>: BatchGetImage once, then PutImage
    /// of the same manifest per tag (no layer moves, the digest stays).</summary>
    public async Task TagAsync(string registryId, string repository, string digest, IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        var image = await BatchGetImageAsync(registryId, repository, digest, cancellationToken);
        foreach (var tag in tags) await PutImageAsync(registryId, image, tag, cancellationToken);
    }

    public async Task PutImageAsync(string registryId, EcrImage image, string tag, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await client.SendAsync("PutImage", new JsonObject
            {
                ["registryId"] = registryId,
                ["repositoryName"] = image.Repository,
                ["imageManifest"] = image.Manifest,
                ["imageManifestMediaType"] = image.MediaType,
                ["imageDigest"] = image.Digest,
                ["imageTag"] = tag,
            }, cancellationToken);
            var stored = response.TryGetProperty("image", out var i) && i.TryGetProperty("imageId", out var id) ? Text(id, "imageDigest") : null;
            if (stored is not null && stored != image.Digest)
                throw Invalid("PutImage", $"{image.Repository}:{tag} was stored as {stored}, not {image.Digest}");
        }
        catch (AwsException e) when (e.ErrorCode == "ImageAlreadyExistsException")
        {
        }
    }

    public void Dispose() => client.Dispose();

    static EcrRepository Repository(JsonElement r) => new(
        Text(r, "repositoryName") ?? "",
        Text(r, "registryId") ?? "",
        Text(r, "repositoryUri") ?? "",
        r.TryGetProperty("imageScanningConfiguration", out var scan) && scan.TryGetProperty("scanOnPush", out var s) && s.ValueKind == JsonValueKind.True,
        Text(r, "imageTagMutability") == "IMMUTABLE");

    static string MediaTypeOf(string manifest)
    {
        try
        {
            using var document = JsonDocument.Parse(manifest);
            return Text(document.RootElement, "mediaType") ?? "application/vnd.oci.image.manifest.v1+json";
        }
        catch (JsonException)
        {
            throw Invalid("BatchGetImage", "the imageManifest is not JSON");
        }
    }

    static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    static AwsException Invalid(string reason) => Invalid(Operation, reason);

    static AwsException Invalid(string operation, string reason) => new(AwsService.Ecr, operation, 200, "InvalidResponse", reason);
}
