using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Docker;

// Blobs, manifests by digest and the referrers API: what attaching an artifact (an attestation, an SBOM) to an image
// digest needs (OCI distribution spec 1.1).
public sealed partial class RegistryClient
{
    /// <summary>Uploads a blob unless the registry has it (monolithic upload: POST, then PUT with the digest).</summary>
    public async Task<string> PushBlobAsync(string repository, byte[] content, CancellationToken cancellationToken = default)
    {
        var digest = DigestOf(content);
        using (var head = await SendAsync(repository, PullPush, () => new HttpRequestMessage(HttpMethod.Head, $"{baseUrl}/v2/{repository}/blobs/{digest}"), cancellationToken))
            if (head.IsSuccessStatusCode) return digest;
        string location;
        using (var start = await SendAsync(repository, PullPush, () => new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/v2/{repository}/blobs/uploads/"), cancellationToken))
        {
            await EnsureSuccess(start, repository, "POST blob upload", cancellationToken);
            location = start.Headers.Location is { } l ? new Uri(new Uri(baseUrl + "/"), l).ToString()
                : throw new DeliveryException($"Registry {Registry} ({Scheme}) started a blob upload in {repository} without a Location");
        }
        var url = location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest);
        using var put = await SendAsync(repository, PullPush, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(content) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return request;
        }, cancellationToken);
        await EnsureSuccess(put, repository, $"PUT blob {digest}", cancellationToken);
        return digest;
    }

    /// <summary>The blob's bytes, checked against its digest.</summary>
    public async Task<byte[]> GetBlobAsync(string repository, string digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(repository, Pull, () => new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/{repository}/blobs/{digest}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) throw new DeliveryException($"Registry {Registry} ({Scheme}) has no blob {digest} in {repository}");
        await EnsureSuccess(response, repository, $"GET blob {digest}", cancellationToken);
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (DigestOf(content) != digest) throw new DeliveryException($"Registry {Registry} ({Scheme}) sent blob {digest} with other bytes");
        return content;
    }

    /// <summary>Stores a manifest under its digest or a tag. Returns its digest and whether the registry took note
    /// of its subject (the OCI-Subject header: the referrers API lists it from now on).</summary>
    public async Task<(string Digest, bool SubjectIndexed)> PutManifestAsync(string repository, string reference, byte[] content, string mediaType, CancellationToken cancellationToken = default)
    {
        var digest = DigestOf(content);
        using var response = await SendAsync(repository, PullPush, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/v2/{repository}/manifests/{reference}") { Content = new ByteArrayContent(content) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return request;
        }, cancellationToken);
        await EnsureSuccess(response, repository, $"PUT manifest {reference}", cancellationToken);
        return (digest, response.Headers.Contains("OCI-Subject"));
    }

    /// <summary>The referrers of <paramref name="digest"/> with that artifact type (descriptors from the referrers
    /// API), or null when the registry has no referrers API.</summary>
    public async Task<IReadOnlyList<JsonNode>?> GetReferrersAsync(string repository, string digest, string artifactType, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(repository, Pull, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/{repository}/referrers/{digest}?artifactType={Uri.EscapeDataString(artifactType)}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.index.v1+json"));
            return request;
        }, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed) return null;
        await EnsureSuccess(response, repository, $"GET referrers of {digest}", cancellationToken);
        var index = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return (index?["manifests"]?.AsArray() ?? []).OfType<JsonNode>()
            .Where(m => (string?)m["artifactType"] == artifactType).ToList();
    }
}
