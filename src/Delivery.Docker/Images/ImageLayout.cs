using System.Formats.Tar;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>An uncompressed layer tar in a temp file and its diff id (sha256 of the tar). Deleted on dispose.</summary>
public sealed class LayerFile : IDisposable
{
    LayerFile(string path, string diffId, long size) => (Path, DiffId, Size) = (path, diffId, size);

    public string Path { get; }
    /// <summary>"sha256:&lt;hex&gt;" of the uncompressed tar: what the image config's rootfs.diff_ids names.</summary>
    public string DiffId { get; }
    public long Size { get; }

    /// <summary>Writes the archive's tar to a temp file, hashing as it goes.</summary>
    public static async Task<LayerFile> WriteAsync(RootFilesystemArchive archive, CancellationToken cancellationToken = default)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"layer-{Guid.NewGuid():N}.tar");
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            await using (var hashing = new HashingStream(file, sha))
                await archive.WriteToAsync(hashing, cancellationToken);
            return new LayerFile(path, "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset()), new FileInfo(path).Length);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public void Dispose()
    {
        try { File.Delete(Path); } catch (IOException) { }
    }

    sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

/// <summary>
/// An image made by the build rather than by the engine's builder, as jib and ko do: an image config whose every
/// field is chosen here (times from the commit, no builder state) plus layer tars, loaded through the Engine API in
/// the engine's own archive format (docker save/load). The image id is the sha256 of the config bytes, so the same
/// inputs always give the same id. Base layers the engine already has are left out of the archive: load finds them
/// by chain id (moby image/tarexport/load.go looks the layer up before reading its file).
/// </summary>
public static class ImageLayout
{
    /// <summary>Times in configs and history: RFC 3339 in UTC, whole seconds, as docker writes them.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string DigestOf(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Loads the config (with <paramref name="newLayers"/> appended to whatever base layers its rootfs names,
    /// which the engine must already hold) as <paramref name="tags"/>. Returns the image id, which is checked against
    /// the config's digest.</summary>
    public static async Task<string> LoadAsync(DockerEngineClient docker, byte[] config, IReadOnlyList<LayerFile> newLayers,
        IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        var id = DigestOf(config);
        var hex = id["sha256:".Length..];
        var diffIds = (JsonNode.Parse(config)?["rootfs"]?["diff_ids"]?.AsArray() ?? throw new DeliveryException("Image config has no rootfs.diff_ids"))
            .Select(d => d!.GetValue<string>()).ToList();
        var baseCount = diffIds.Count - newLayers.Count;
        if (baseCount < 0 || !newLayers.Select(l => l.DiffId).SequenceEqual(diffIds.Skip(baseCount)))
            throw new DeliveryException("Image config's last diff_ids are not the new layers'");
        var layerPaths = diffIds.Select(d => d["sha256:".Length..] + "/layer.tar").ToList();
        var manifest = Encoding.UTF8.GetBytes(new JsonArray(new JsonObject
        {
            ["Config"] = hex + ".json",
            ["RepoTags"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()),
            ["Layers"] = new JsonArray(layerPaths.Select(p => (JsonNode?)p).ToArray()),
        }).ToJsonString());

        var pipe = new Pipe();
        var writing = Task.Run(async () =>
        {
            await using var stream = pipe.Writer.AsStream();
            try
            {
                await using var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
                await tar.WriteEntryAsync(File("manifest.json", manifest), cancellationToken);
                await tar.WriteEntryAsync(File(hex + ".json", config), cancellationToken);
                for (var i = 0; i < newLayers.Count; i++)
                {
                    await using var data = new FileStream(newLayers[i].Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, layerPaths[baseCount + i]) { DataStream = data, ModificationTime = DateTimeOffset.UnixEpoch }, cancellationToken);
                }
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e);
                throw;
            }
        }, cancellationToken);
        await using (var reader = pipe.Reader.AsStream())
        {
            try
            {
                await docker.LoadImagesAsync(reader, cancellationToken);
            }
            catch (DeliveryException e) when (e.Message.Contains("no such file", StringComparison.OrdinalIgnoreCase))
            {
                throw new DeliveryException($"The engine does not hold the base image's layers any more (pull or rebuild the base image): {e.Message}");
            }
        }
        await writing;
        var image = await docker.InspectImageAsync(id, cancellationToken)
                    ?? throw new DeliveryException($"Docker Engine: loaded image {id} is not listed");
        if (image.ID != id) throw new DeliveryException($"Docker Engine loaded the image as {image.ID}, not as its config digest {id}");
        return id;
    }

    static PaxTarEntry File(string name, byte[] content) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), ModificationTime = DateTimeOffset.UnixEpoch };

    /// <summary>The engine's config of an image (the exact bytes its id is the digest of), from its export.</summary>
    public static async Task<byte[]> ReadConfigAsync(DockerEngineClient docker, string image, Func<string, Stream, Task>? onLayer = null,
        CancellationToken cancellationToken = default)
    {
        var id = (await docker.InspectImageAsync(image, cancellationToken) ?? throw new DeliveryException($"Image {image} does not exist")).ID;
        var hex = id["sha256:".Length..];
        // Spooled to a file first: read entry by entry, the engine's chunked stream ends early (Docker.DotNet).
        var spool = Path.Combine(Path.GetTempPath(), $"image-export-{Guid.NewGuid():N}.tar");
        await using var export = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await docker.SaveImagesAsync([id], export, cancellationToken);
        export.Position = 0;
        await using var reader = new TarReader(export);
        byte[]? config = null;
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            if (entry.Name == hex + ".json" && entry.DataStream is { } data)
            {
                using var buffer = new MemoryStream();
                await data.CopyToAsync(buffer, cancellationToken);
                config = buffer.ToArray();
            }
            else if (onLayer is not null && entry.Name.EndsWith("/layer.tar", StringComparison.Ordinal) && entry.DataStream is { } layer)
            {
                await onLayer(entry.Name, layer);
            }
        }
        if (config is null) throw new DeliveryException($"The export of {image} holds no config {hex}.json");
        if (DigestOf(config) != id) throw new DeliveryException($"The export of {image} holds a config whose digest is not its id {id}");
        return config;
    }
}
