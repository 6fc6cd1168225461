using System.Text.Json;

namespace Delivery.Docker;

/// <summary>A repository's release image: what varies per repository and per commit. The rest (one app layer, user,
/// data directory, entrypoint) is <see cref="AppImageSpec"/>'s.</summary>
public sealed record ReleaseImageSpec
{
    /// <summary>Where the image is tagged, e.g. 127.0.0.1:5000/webapp.</summary>
    public required string Repository { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }
    public required string Version { get; init; }
    /// <summary>The full commit sha.</summary>
    public required string Revision { get; init; }
    /// <summary>The commit time: the image's only time.</summary>
    public required DateTimeOffset Created { get; init; }
    /// <summary>A base image the engine holds.</summary>
    public required string BaseImage { get; init; }
    /// <summary>The publish output that becomes the app layer.</summary>
    public required string AppDirectory { get; init; }
    /// <summary>The app's SBOM (from Publish); completed in place with the base image's contents.</summary>
    public required string SbomPath { get; init; }
    /// <summary>The repository's URL without credentials, or "".</summary>
    public string Source { get; init; } = "";
    public required string Title { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<int> ExposedPorts { get; init; } = [];
}

/// <summary>What a release image build produced, for the smoke test and the push (possibly in a later run).</summary>
public sealed record BuiltImage(string Repository, IReadOnlyList<string> Tags, string ImageId, string Version, string Commit, string? Sbom = null,
    string? BaseImage = null, string? BaseImageDigest = null)
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };
}

/// <summary>
/// Builds a release image: completes the SBOM with the base image (its runtime and OS packages), labels the image
/// with the OCI keys and the SBOM's sha256 (Push attaches that SBOM to the digest), and assembles and loads it
/// through <see cref="AppImage"/>. One commit, one image id.
/// </summary>
public static class ReleaseImage
{
    /// <summary>The image's labels: the OCI annotations for version, revision, created, source and title, and the SBOM.</summary>
    public static IReadOnlyDictionary<string, string> Labels(ReleaseImageSpec spec, string sbomSha256) => new Dictionary<string, string>
    {
        ["org.opencontainers.image.version"] = spec.Version,
        ["org.opencontainers.image.revision"] = spec.Revision,
        ["org.opencontainers.image.created"] = ImageLayout.Time(spec.Created),
        ["org.opencontainers.image.source"] = spec.Source,
        ["org.opencontainers.image.title"] = spec.Title,
        [SbomFile.ImageLabel] = sbomSha256,
    };

    /// <summary>What <see cref="AppImage.BuildAsync"/> is given for <paramref name="spec"/> and an SBOM of that sha256.</summary>
    public static AppImageSpec AppImageSpecOf(ReleaseImageSpec spec, string sbomSha256) => new()
    {
        BaseImage = spec.BaseImage,
        AppDirectory = spec.AppDirectory,
        Created = spec.Created,
        Environment = spec.Environment,
        ExposedPorts = spec.ExposedPorts,
        Labels = Labels(spec, sbomSha256),
        Tags = ImageTags.References(spec.Repository, spec.Tags).ToList(),
    };

    public static async Task<BuiltImage> BuildAsync(DockerEngineClient docker, ReleaseImageSpec spec, Action<string> log, CancellationToken cancellationToken = default)
    {
        var baseContents = await BaseImageContents.ReadAsync(docker, spec.BaseImage, cancellationToken);
        await File.WriteAllBytesAsync(spec.SbomPath, ImageSbom.Complete(await File.ReadAllBytesAsync(spec.SbomPath, cancellationToken), baseContents), cancellationToken);
        var sbom = await SbomFile.ReadAsync(spec.SbomPath, cancellationToken);
        log($"SBOM {Path.GetRelativePath(Environment.CurrentDirectory, spec.SbomPath)}: {sbom.Components} components (base {baseContents.Digest[..19]}, {string.Join(", ", baseContents.Frameworks.Select(f => $"{f.Key} {f.Value}"))}, {baseContents.Packages.Count} OS packages), {sbom.Sha256}");
        var result = await AppImage.BuildAsync(docker, AppImageSpecOf(spec, sbom.Sha256), cancellationToken);
        return new BuiltImage(spec.Repository, spec.Tags, result.ImageId, spec.Version, spec.Revision, sbom.Sha256, baseContents.Reference, baseContents.Digest);
    }
}
