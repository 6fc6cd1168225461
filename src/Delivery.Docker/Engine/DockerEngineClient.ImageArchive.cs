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
}
