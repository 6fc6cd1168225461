using System.Net.Http.Headers;
using Delivery.Core;

namespace Delivery.Docker;

// Image export and load (the engine's `docker save` / `docker load` format), so one CI job can hand the image it
// built and tested to a later job: build once, push the same bits.
public sealed partial class DockerEngineClient
{
    /// <summary>GET /images/get: writes the images (layers, config and the given tags) as one tar.</summary>
    public async Task SaveImagesAsync(IReadOnlyList<string> references, Stream destination, CancellationToken cancellationToken = default)
    {
        var query = new QueryString();
        foreach (var reference in references) query.Add("names", reference);
        using var response = await SendAsync(HttpMethod.Get, "/images/get" + query, $"export of {string.Join(", ", references)}", cancellationToken);
        await response.Content.CopyToAsync(destination, cancellationToken);
    }

    /// <summary>POST /images/load: loads such a tar; returns what the engine reports loaded ("repo:tag" or an image id).</summary>
    public async Task<IReadOnlyList<string>> LoadImagesAsync(Stream archive, CancellationToken cancellationToken = default)
    {
        using var content = new StreamContent(archive, 81920);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        using var response = await SendAsync(HttpMethod.Post, "/images/load?quiet=1", "image load", cancellationToken, content);
        var loaded = new List<string>();
        await foreach (var message in ReadMessagesAsync(response, cancellationToken))
        {
            if (message.ErrorText is { } error) throw new DeliveryException($"Docker Engine: image load failed: {error.Trim()}");
            foreach (var line in (message.Stream ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (line.StartsWith("Loaded image", StringComparison.Ordinal) && line.IndexOf(": ", StringComparison.Ordinal) is > 0 and var colon)
                    loaded.Add(line[(colon + 2)..]);
        }
        return loaded;
    }
}
