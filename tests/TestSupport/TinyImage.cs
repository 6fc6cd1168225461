using System.Text;
using Delivery.Docker;

namespace TestSupport;

/// <summary>A one-layer image uploaded through the registry API (no engine): enough for what reads a release's
/// digest and its attachments, never for running.</summary>
public static class TinyImage
{
    /// <summary>Uploads a config, a layer (unique bytes: a digest of its own) and an OCI manifest tagged
    /// <paramref name="tag"/>; returns the manifest's digest.</summary>
    public static async Task<string> UploadAsync(RegistryClient registry, string repository, string tag)
    {
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var layer = Encoding.UTF8.GetBytes($"layer {Guid.NewGuid()}");
        var configDigest = await registry.PushBlobAsync(repository, config);
        var layerDigest = await registry.PushBlobAsync(repository, layer);
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":{{config.Length}},"digest":"{{configDigest}}"},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":{{layer.Length}},"digest":"{{layerDigest}}"}]}
            """);
        return (await registry.PutManifestAsync(repository, tag, manifest, "application/vnd.oci.image.manifest.v1+json")).Digest;
    }
}
