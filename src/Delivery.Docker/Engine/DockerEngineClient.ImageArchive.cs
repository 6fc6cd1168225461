using Delivery.Core;
using Docker.DotNet.Models;

namespace Delivery.Docker;

// Image export and load (the engine's `docker save` / `docker load` format), so one CI job can hand the image it
// built and tested to a later job: build once, push the same bits.
public sealed partial class DockerEngineClient
{
    /// <summary>Writes the images (layers, config and the given tags) as one tar.</summary>
    public async Task SaveImagesAsync(IReadOnlyList<string> references, Stream destination, CancellationToken cancellationToken = default)
    {
        var what = $"export of {string.Join(", ", references)}";
        await using var archive = await CallAsync(what, api => api.Images.SaveImagesAsync([.. references], cancellationToken), cancellationToken);
        await archive.CopyToAsync(destination, cancellationToken);
    }

    /// <summary>Loads such a tar; returns what the engine reports loaded ("repo:tag" or an image id).</summary>
    public async Task<IReadOnlyList<string>> LoadImagesAsync(Stream archive, CancellationToken cancellationToken = default)
    {
        var loaded = new List<string>();
        string? error = null;
        var messages = new Messages(message =>
        {
            error ??= message.Error?.Message;
            foreach (var line in (message.Stream ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (line.StartsWith("Loaded image", StringComparison.Ordinal) && line.IndexOf(": ", StringComparison.Ordinal) is > 0 and var colon)
                    loaded.Add(line[(colon + 2)..]);
        });
        await CallAsync("image load", api => api.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, archive, messages, cancellationToken), cancellationToken);
        if (error is not null) throw new DeliveryException($"Docker Engine: image load failed: {error.Trim()}");
        return loaded;
    }

    /// <summary>
    /// Loads the archive and checks that each <c>repository:tag</c> now names <paramref name="expectedImageId"/>: the
    /// bits that were built and tested, not a rebuild. Another id fails in one line.
    /// </summary>
    public async Task<IReadOnlyList<string>> LoadVerifiedAsync(string archivePath, string repository, IEnumerable<string> tags, string expectedImageId,
        CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> loaded;
        await using (var archive = File.OpenRead(archivePath))
            loaded = await LoadImagesAsync(archive, cancellationToken);
        foreach (var tag in tags)
        {
            var reference = $"{repository}:{tag}";
            var image = await InspectImageAsync(reference, cancellationToken);
            if (image?.ID != expectedImageId)
                throw new DeliveryException($"{reference} loaded as {image?.ID ?? "nothing"}, but the build recorded {expectedImageId}: " +
                                            "the archive is not the image that was built and tested");
        }
        return loaded;
    }
}
