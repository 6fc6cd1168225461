using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Aws.TestEndpoint.RequestFields;

namespace Aws.TestEndpoint;

/// <summary>
/// ECR repositories and images for the test endpoint. Repositories live in memory; images live in a real registry
/// (<see cref="BackingRegistry"/>, a distribution registry on loopback) under the same repository name, so
/// BatchGetImage returns the manifest bytes the registry stores and PutImage really tags them there.
/// Errors follow ECR's codes and messages.
/// </summary>
public sealed class EcrApi(string account, string region)
{
    readonly Dictionary<string, Repository> repositories = new(StringComparer.Ordinal);
    static readonly HttpClient Registry = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>host:port of a plain-http registry that stores the images, e.g. "127.0.0.1:41234".</summary>
    public string? BackingRegistry { get; set; }

    /// <summary>The caller's identity, as ECR names it in AccessDenied messages.</summary>
    public string CallerArn { get; set; } = $"arn:aws:iam::{account}:user/delivery-test";

    public IReadOnlyCollection<string> RepositoryNames { get { lock (repositories) return repositories.Keys.ToList(); } }

    public bool IsImmutable(string name) { lock (repositories) return repositories.TryGetValue(name, out var r) && r.Immutable; }

    public bool ScansOnPush(string name) { lock (repositories) return repositories.TryGetValue(name, out var r) && r.ScanOnPush; }

    public async Task<JsonObject?> HandleAsync(string operation, JsonElement request) => operation switch
    {
        "DescribeRepositories" => DescribeRepositories(request),
        "CreateRepository" => CreateRepository(request),
        "BatchGetImage" => await BatchGetImageAsync(request),
        "PutImage" => await PutImageAsync(request),
        _ => null,
    };

    JsonObject DescribeRepositories(JsonElement request)
    {
        var registryId = CheckAccount(request, "DescribeRepositories");
        var names = Strings(request, "repositoryNames");
        lock (repositories)
        {
            foreach (var name in names)
                if (!repositories.ContainsKey(name))
                    throw new EcrError("RepositoryNotFoundException",
                        $"The repository with name '{name}' does not exist in the registry with id '{registryId}'");
            var selected = names.Count > 0 ? names.Select(n => repositories[n]) : repositories.Values;
            return new JsonObject { ["repositories"] = new JsonArray(selected.Select(r => (JsonNode?)Describe(r)).ToArray()) };
        }
    }

    JsonObject CreateRepository(JsonElement request)
    {
        var registryId = CheckAccount(request, "CreateRepository", Text(request, "repositoryName"));
        var name = Text(request, "repositoryName") ?? throw new EcrError("InvalidParameterException", "repositoryName is required");
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, @"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$") || name.Length > 256)
            throw new EcrError("InvalidParameterException",
                $"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''");
        var mutability = Text(request, "imageTagMutability") ?? "MUTABLE";
        if (mutability is not ("MUTABLE" or "IMMUTABLE"))
            throw new EcrError("InvalidParameterException", $"Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'");
        var scan = request.TryGetProperty("imageScanningConfiguration", out var s) && s.TryGetProperty("scanOnPush", out var p) && p.ValueKind == JsonValueKind.True;
        lock (repositories)
        {
            if (repositories.ContainsKey(name))
                throw new EcrError("RepositoryAlreadyExistsException", $"The repository with name '{name}' already exists in the registry with id '{registryId}'");
            var repository = new Repository(name, mutability == "IMMUTABLE", scan, DateTimeOffset.UtcNow);
            repositories[name] = repository;
            return new JsonObject { ["repository"] = Describe(repository) };
        }
    }

    async Task<JsonObject> BatchGetImageAsync(JsonElement request)
    {
        var registryId = CheckAccount(request, "BatchGetImage", Text(request, "repositoryName"));
        var name = ExistingRepository(request, registryId).Name;
        var accepted = Strings(request, "acceptedMediaTypes");
        var images = new JsonArray();
        var failures = new JsonArray();
        if (!request.TryGetProperty("imageIds", out var ids) || ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() == 0)
            throw new EcrError("InvalidParameterException", "imageIds must contain at least one image id");
        foreach (var id in ids.EnumerateArray())
        {
            var reference = Text(id, "imageDigest") ?? Text(id, "imageTag") ?? "";
            var manifest = await GetManifestAsync(name, reference, accepted);
            if (manifest is null)
            {
                failures.Add(new JsonObject { ["imageId"] = JsonNode.Parse(id.GetRawText()), ["failureCode"] = "ImageNotFound", ["failureReason"] = "Requested image not found" });
                continue;
            }
            var imageId = new JsonObject { ["imageDigest"] = manifest.Value.Digest };
            if (Text(id, "imageTag") is { } tag) imageId["imageTag"] = tag;
            images.Add(new JsonObject
            {
                ["registryId"] = registryId,
                ["repositoryName"] = name,
                ["imageId"] = imageId,
                ["imageManifest"] = Encoding.UTF8.GetString(manifest.Value.Bytes),
                ["imageManifestMediaType"] = manifest.Value.MediaType,
            });
        }
        return new JsonObject { ["images"] = images, ["failures"] = failures };
    }

    async Task<JsonObject> PutImageAsync(JsonElement request)
    {
        var registryId = CheckAccount(request, "PutImage", Text(request, "repositoryName"));
        var repository = ExistingRepository(request, registryId);
        var text = Text(request, "imageManifest") ?? throw new EcrError("InvalidParameterException", "imageManifest is required");
        var tag = Text(request, "imageTag");
        var bytes = Encoding.UTF8.GetBytes(text);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (Text(request, "imageDigest") is { } given && given != digest)
            throw new EcrError("ImageDigestDoesNotMatchException", $"Provided digest {given} does not match the digest of the manifest {digest}");
        string mediaType;
        try
        {
            using var document = JsonDocument.Parse(text);
            mediaType = Text(request, "imageManifestMediaType") ?? Text(document.RootElement, "mediaType")
                ?? throw new EcrError("InvalidParameterException", "The manifest has no mediaType and none was given");
        }
        catch (JsonException)
        {
            throw new EcrError("InvalidParameterException", "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
        }

        if (tag is not null)
        {
            var current = await GetManifestAsync(repository.Name, tag, []);
            if (current?.Digest == digest)
                throw new EcrError("ImageAlreadyExistsException",
                    $"Image with digest '{digest}' and tag '{tag}' already exists in the repository with name '{repository.Name}' in registry with id '{registryId}'");
            if (current is not null && repository.Immutable)
                throw new EcrError("ImageTagAlreadyExistsException",
                    $"The image tag '{tag}' already exists in the '{repository.Name}' repository and cannot be overwritten because the repository is immutable.");
        }

        using var put = new HttpRequestMessage(HttpMethod.Put, $"http://{Backing}/v2/{repository.Name}/manifests/{tag ?? digest}")
        {
            Content = new ByteArrayContent(bytes),
        };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await Registry.SendAsync(put);
        if (response.StatusCode == HttpStatusCode.BadRequest)
            throw new EcrError("LayersNotFoundException", $"The image's layers or config are not in the repository: {await response.Content.ReadAsStringAsync()}");
        if (!response.IsSuccessStatusCode)
            throw new EcrError("ServerException", $"Backing registry answered {(int)response.StatusCode}");

        var imageId = new JsonObject { ["imageDigest"] = digest };
        if (tag is not null) imageId["imageTag"] = tag;
        return new JsonObject
        {
            ["image"] = new JsonObject
            {
                ["registryId"] = registryId,
                ["repositoryName"] = repository.Name,
                ["imageId"] = imageId,
                ["imageManifest"] = text,
                ["imageManifestMediaType"] = mediaType,
            },
        };
    }

    string Backing => BackingRegistry ?? throw new EcrError("ServerException", "The test endpoint has no backing registry for images");

    async Task<(byte[] Bytes, string MediaType, string Digest)?> GetManifestAsync(string repository, string reference, List<string> accepted)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"http://{Backing}/v2/{repository}/manifests/{reference}");
        foreach (var type in accepted.Count > 0 ? accepted :
                 ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
                  "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"])
            get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        using var response = await Registry.SendAsync(get);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw new EcrError("ServerException", $"Backing registry answered {(int)response.StatusCode}");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (bytes, response.Content.Headers.ContentType?.MediaType ?? "", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>Only the caller's own account: another account's registry needs a repository policy this endpoint
    /// never grants, so ECR answers AccessDenied.</summary>
    string CheckAccount(JsonElement request, string operation, string? repository = null)
    {
        var registryId = Text(request, "registryId") ?? account;
        if (registryId != account)
        {
            var resource = $"arn:aws:ecr:{region}:{registryId}:repository/{repository ?? Strings(request, "repositoryNames").FirstOrDefault() ?? "*"}";
            throw new EcrError("AccessDeniedException",
                $"User: {CallerArn} is not authorized to perform: ecr:{operation} on resource: {resource} because no resource-based policy allows the ecr:{operation} action");
        }
        return registryId;
    }

    Repository ExistingRepository(JsonElement request, string registryId)
    {
        var name = Text(request, "repositoryName") ?? throw new EcrError("InvalidParameterException", "repositoryName is required");
        lock (repositories)
            return repositories.TryGetValue(name, out var repository) ? repository
                : throw new EcrError("RepositoryNotFoundException", $"The repository with name '{name}' does not exist in the registry with id '{registryId}'");
    }

    JsonObject Describe(Repository r) => new()
    {
        ["repositoryArn"] = $"arn:aws:ecr:{region}:{account}:repository/{r.Name}",
        ["registryId"] = account,
        ["repositoryName"] = r.Name,
        ["repositoryUri"] = $"{account}.dkr.ecr.{region}.amazonaws.com/{r.Name}",
        ["createdAt"] = r.Created.ToUnixTimeMilliseconds() / 1000.0,
        ["imageTagMutability"] = r.Immutable ? "IMMUTABLE" : "MUTABLE",
        ["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = r.ScanOnPush },
        ["encryptionConfiguration"] = new JsonObject { ["encryptionType"] = "AES256" },
    };

    sealed record Repository(string Name, bool Immutable, bool ScanOnPush, DateTimeOffset Created);

    /// <summary>An ECR error: the endpoint answers 400 with this code and message.</summary>
    public sealed class EcrError(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}
