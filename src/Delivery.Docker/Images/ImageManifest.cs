using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// What a push produced (artifacts/image.json): later jobs deploy <see cref="Reference"/> (repository@digest) without
/// rebuilding. <see cref="Sbom"/> is the sha256 of the CycloneDX SBOM the image was built with (as its
/// <c>delivery.sbom.sha256</c> label says), when there was one.
/// </summary>
public sealed partial record ImageManifest(
    string Repository,
    IReadOnlyList<string> Tags,
    string Digest,
    string Version,
    string Commit,
    DateTimeOffset Created,
    string? Sbom = null)
{
    public const string DefaultPath = "artifacts/image.json";

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The immutable reference: repository@sha256:….</summary>
    [JsonIgnore]
    public string Reference => $"{Repository}@{Digest}";

    public async Task WriteAsync(string path, CancellationToken cancellationToken = default)
    {
        Validate(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(this, Json) + "\n", cancellationToken);
        File.Move(temp, path, overwrite: true);
    }

    public static async Task<ImageManifest> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
            throw new DeliveryException($"Image manifest {path} does not exist: build and push the image first");
        ImageManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ImageManifest>(await File.ReadAllTextAsync(path, cancellationToken), Json);
        }
        catch (JsonException ex)
        {
            throw new DeliveryException($"Image manifest {path} is not valid: {ex.Message}");
        }
        if (manifest is null) throw new DeliveryException($"Image manifest {path} is empty");
        manifest.Validate(path);
        return manifest;
    }

    void Validate(string path)
    {
        string? problem = null;
        if (string.IsNullOrWhiteSpace(Repository) || !ImageReference.IsValidRepository(Repository)) problem = $"repository '{Repository}' is not valid";
        else if (Digest is null || !DigestPattern().IsMatch(Digest)) problem = $"digest '{Digest}' is not a sha256 digest";
        else if (Tags is null || Tags.Any(t => !ImageReference.IsValidTag(t))) problem = "a tag is missing or not a valid Docker tag";
        else if (string.IsNullOrWhiteSpace(Version)) problem = "version is empty";
        else if (string.IsNullOrWhiteSpace(Commit)) problem = "commit is empty";
        else if (Sbom is not null && !DigestPattern().IsMatch(Sbom)) problem = $"sbom '{Sbom}' is not a sha256 digest";
        if (problem is not null) throw new DeliveryException($"Image manifest {path}: {problem}");
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();
}
