using System.Text.Json;
using System.Text.Json.Serialization;

namespace Delivery.Hosts;

/// <summary>One line of an environment's history: a release that passed the health gate and took traffic.</summary>
public sealed record ReleaseRecord(
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("environment")] string Environment,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("commit")] string Commit,
    [property: JsonPropertyName("deployed_by")] string DeployedBy,
    [property: JsonPropertyName("container")] string Container,
    /// <summary>Why a bake-failed or automatic rollback line was written; null otherwise.</summary>
    [property: JsonPropertyName("reason")] string? Reason = null,
    /// <summary>Why a release deployed with --allow-unattested has no valid provenance; null when it has.</summary>
    [property: JsonPropertyName("unattested")] string? Unattested = null)
{
    internal static ReleaseRecord Parse(JsonElement element) =>
        element.Deserialize<ReleaseRecord>() ?? throw new JsonException("empty release record");
}

/// <summary>A release kept on the host (stopped container and image) that a rollback can return to.</summary>
public sealed record RetainedRelease(string Version, string Digest, string Image, string Commit);

/// <summary>What an environment serves right now, as the host sees it.</summary>
public sealed record EnvironmentStatus(
    string Environment,
    bool Deployed,
    string? Version,
    string? Digest,
    string? Image,
    string? Commit,
    string? Since,
    string? Container,
    int? PrivatePort,
    /// <summary>HTTP status of the health path on the container itself (0 when it does not answer).</summary>
    int ContainerHealth,
    /// <summary>HTTP status of the health path through the proxy's public port.</summary>
    int PublicHealth,
    string? PreviousVersion,
    IReadOnlyList<RetainedRelease> Retained,
    /// <summary>Who holds the environment's lock, or null when it is free.</summary>
    string? LockHolder)
{
    public bool Healthy => ContainerHealth == 200 && PublicHealth == 200;
}

/// <summary>The result of a deploy or rollback.</summary>
public sealed record DeployOutcome(
    ReleaseRecord Release,
    string? PreviousVersion,
    /// <summary>Time spent per phase (preflight, lock, pull, reconcile, start, health, baseline, switch, record, drain,
    /// bake, stop, prune).</summary>
    IReadOnlyDictionary<string, TimeSpan> Timings,
    TimeSpan Total,
    IReadOnlyList<string> Output)
{
    /// <summary>How the new release's bake ended; <see cref="BakeReport.Off"/> without one.</summary>
    public Bake.BakeReport Bake { get; init; } = Delivery.Hosts.Bake.BakeReport.Off;

    /// <summary>Every host's line: what it did and what it serves now.</summary>
    public IReadOnlyList<HostRow> Table { get; init; } = [];

    /// <summary>The hosts the operation ran on.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];
}

/// <summary>Whether a digest may be promoted from an environment: what it runs, and whether the digest ever passed
/// the health gate there (the history records only health-gated releases).</summary>
public sealed record PromotionEvidence(string Environment, string? RunningDigest, string? RunningVersion, bool Verified, ReleaseRecord? LastRecord);
