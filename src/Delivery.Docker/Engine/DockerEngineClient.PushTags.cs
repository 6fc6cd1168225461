using Delivery.Core;
using Docker.DotNet.Models;

namespace Delivery.Docker;

/// <summary>What a push reports to while it runs: each progress message of one tag, then the end of that tag.</summary>
public interface IPushObserver
{
    void Report(JSONMessage message);

    void Complete();
}

public sealed partial class DockerEngineClient
{
    /// <summary>
    /// Pushes every tag of an image to <paramref name="repository"/> and returns the digest. Every tag must land on
    /// that one digest; the image is first tagged into the repository when it was built for another one (a retag,
    /// never a rebuild).
    /// </summary>
    public async Task<string> PushTagsAsync(string imageId, string repository, IReadOnlyList<string> tags, RegistryAuth auth,
        Func<string, IPushObserver>? observe = null, CancellationToken cancellationToken = default)
    {
        if (tags.Count == 0) throw new DeliveryException($"No tags to push to {repository}");
        foreach (var tag in tags)
            await CallAsync($"tag {repository}:{tag}", api => api.Images.TagImageAsync(imageId,
                new ImageTagParameters { RepositoryName = repository, Tag = tag }, cancellationToken), cancellationToken);
        string? digest = null;
        foreach (var tag in tags)
        {
            var observer = observe?.Invoke(tag);
            var pushed = await PushImageAsync(repository, tag, auth, observer is null ? null : observer.Report, cancellationToken);
            observer?.Complete();
            if (digest is not null && pushed != digest)
                throw new DeliveryException($"Tag {tag} was pushed as {pushed}, but earlier tags as {digest}");
            digest = pushed;
        }
        return digest!;
    }
}
