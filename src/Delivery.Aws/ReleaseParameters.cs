using System.Text.Json;
using System.Text.Json.Serialization;
using Delivery.Hosts;

namespace Delivery.Aws;

/// <summary>What an environment runs across its fleet, as recorded in Parameter Store after a successful deploy.</summary>
public sealed record FleetRelease(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("commit")] string Commit,
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("deployed_by")] string DeployedBy,
    [property: JsonPropertyName("instances")] IReadOnlyList<string> Instances,
    /// <summary>Why the release was deployed without valid provenance (--allow-unattested); absent when it has it.</summary>
    [property: JsonPropertyName("unattested"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Unattested = null,
    // Instances --skip-offline left out, each with its PingStatus; absent when none was.
    [property: JsonPropertyName("skipped"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Skipped = null)
{
    public PinnedImage ToPinnedImage() => new(Version, Image.Split('@')[0], Digest, Commit.Length > 0 ? Commit : null);
}

/// <summary>
/// The release record of each environment: the parameter <c>/&lt;app&gt;/&lt;environment&gt;/release</c>, one JSON
/// object, overwritten after each successful deploy; its versions (GetParameterHistory) are the history.
/// </summary>
public sealed class ReleaseParameters(SsmClient ssm, string app)
{
    public string Name(DeployEnvironment environment) => $"/{app}/{environment.Name}/release";

    public Task<long> PutAsync(DeployEnvironment environment, FleetRelease release, CancellationToken cancellationToken = default) =>
        ssm.PutParameterAsync(Name(environment), JsonSerializer.Serialize(release), overwrite: true, cancellationToken: cancellationToken);

    public async Task<(long Version, FleetRelease Release)?> GetAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
        await ssm.GetParameterAsync(Name(environment), cancellationToken) is { } p && Parse(p.Value) is { } r ? (p.Version, r) : null;

    public async Task<IReadOnlyList<(long Version, FleetRelease Release)>> HistoryAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
        (await ssm.GetParameterHistoryAsync(Name(environment), cancellationToken))
            .Select(p => (p.Version, Release: Parse(p.Value)))
            .Where(p => p.Release is not null)
            .Select(p => (p.Version, p.Release!))
            .ToList();

    /// <summary>Deletes the record and its history (teardown); false when there was none.</summary>
    public Task<bool> RemoveAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
        ssm.DeleteParameterAsync(Name(environment), cancellationToken);

    static FleetRelease? Parse(string json)
    {
        try { return JsonSerializer.Deserialize<FleetRelease>(json); }
        catch (JsonException) { return null; }
    }
}
