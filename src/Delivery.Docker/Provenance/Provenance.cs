using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>What a provenance statement says about one pushed image.</summary>
public sealed record ProvenanceFacts
{
    /// <summary>The image repository (registry/path) and the pushed manifest digest: the statement's subject.</summary>
    public required string ImageRepository { get; init; }
    public required string Digest { get; init; }
    /// <summary>The source repository (e.g. https://github.com/org/repo): what deploys check.</summary>
    public required string SourceRepository { get; init; }
    public required string Commit { get; init; }
    public required string Version { get; init; }
    /// <summary>Who built: a CI workflow URL, or "local:&lt;host&gt;" for a machine.</summary>
    public required string BuilderId { get; init; }
    /// <summary>The CI run's URL, when there is one.</summary>
    public string? InvocationId { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public string? SbomDigest { get; init; }
    public string? BaseImage { get; init; }
    public string? BaseImageDigest { get; init; }
}

/// <summary>An in-toto Statement v1 with a SLSA v1 provenance predicate (slsa.dev/provenance/v1).</summary>
public static class ProvenanceStatement
{
    public const string PayloadType = "application/vnd.in-toto+json";
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string PredicateType = "https://slsa.dev/provenance/v1";
    public const string BuildType = "https://github.com/delivery/webapp/build/image@v1";

    public static byte[] Create(ProvenanceFacts facts)
    {
        var dependencies = new JsonArray(new JsonObject
        {
            ["uri"] = $"git+{facts.SourceRepository}", ["digest"] = new JsonObject { ["gitCommit"] = facts.Commit },
        });
        if (facts.BaseImageDigest is { } baseDigest)
            dependencies.Add(new JsonObject { ["uri"] = $"oci://{facts.BaseImage}", ["digest"] = Sha256(baseDigest) });
        var byproducts = new JsonArray();
        if (facts.SbomDigest is { } sbom)
            byproducts.Add(new JsonObject { ["name"] = "sbom.cdx.json", ["mediaType"] = Attestations.SbomMediaType, ["digest"] = Sha256(sbom) });
        var statement = new JsonObject
        {
            ["_type"] = StatementType,
            ["subject"] = new JsonArray(new JsonObject { ["name"] = facts.ImageRepository, ["digest"] = Sha256(facts.Digest) }),
            ["predicateType"] = PredicateType,
            ["predicate"] = new JsonObject
            {
                ["buildDefinition"] = new JsonObject
                {
                    ["buildType"] = BuildType,
                    ["externalParameters"] = new JsonObject
                    {
                        ["repository"] = facts.SourceRepository,
                        ["commit"] = facts.Commit,
                        ["version"] = facts.Version,
                        ["parameters"] = new JsonObject(facts.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                    },
                    ["resolvedDependencies"] = dependencies,
                },
                ["runDetails"] = new JsonObject
                {
                    ["builder"] = new JsonObject { ["id"] = facts.BuilderId },
                    ["metadata"] = facts.InvocationId is { } run ? new JsonObject { ["invocationId"] = run } : new JsonObject(),
                    ["byproducts"] = byproducts,
                },
            },
        };
        return Encoding.UTF8.GetBytes(statement.ToJsonString());
    }

    static JsonObject Sha256(string digest) => new() { ["sha256"] = digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest["sha256:".Length..] : digest };
}

/// <summary>
/// Artifacts attached to an image digest in the image's own repository (OCI distribution 1.1): an OCI manifest whose
/// subject is the digest, with an empty config and the artifact as its one layer. Registries with the referrers API
/// list it there; for the others it is also tagged sha256-&lt;hex&gt;.&lt;suffix&gt; (".att" for provenance,
/// ".sbom" for the SBOM), cosign's fallback scheme.
/// </summary>
public static class Attestations
{
    public const string ProvenanceArtifactType = "application/vnd.in-toto+json";
    public const string SbomArtifactType = "application/vnd.cyclonedx+json";
    public const string SbomMediaType = "application/vnd.cyclonedx+json";
    const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    const string EmptyMediaType = "application/vnd.oci.empty.v1+json";
    static readonly byte[] Empty = "{}"u8.ToArray();

    public static string FallbackTag(string digest, string suffix) => $"sha256-{digest["sha256:".Length..]}.{suffix}";

    public static string SuffixOf(string artifactType) => artifactType == ProvenanceArtifactType ? "att" : "sbom";

    /// <summary>Attaches <paramref name="content"/> to <paramref name="digest"/>; returns the artifact manifest's digest.</summary>
    public static async Task<string> AttachAsync(RegistryClient registry, string repository, string digest, string artifactType, string mediaType,
        byte[] content, CancellationToken cancellationToken = default)
    {
        var subject = await registry.GetManifestAsync(repository, digest, cancellationToken);
        await registry.PushBlobAsync(repository, Empty, cancellationToken);
        var layer = await registry.PushBlobAsync(repository, content, cancellationToken);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["artifactType"] = artifactType,
            ["config"] = Descriptor(EmptyMediaType, RegistryClient.DigestOf(Empty), Empty.Length),
            ["layers"] = new JsonArray(Descriptor(mediaType, layer, content.Length)),
            ["subject"] = Descriptor(subject.MediaType, digest, subject.Content.Length),
        }.ToJsonString());
        var (manifestDigest, indexed) = await registry.PutManifestAsync(repository, RegistryClient.DigestOf(manifest), manifest, ManifestMediaType, cancellationToken);
        if (!indexed) await registry.PutManifestAsync(repository, FallbackTag(digest, SuffixOf(artifactType)), manifest, ManifestMediaType, cancellationToken);
        return manifestDigest;
    }

    /// <summary>The contents of every artifact of that type attached to the digest (referrers API, else the fallback
    /// tag); empty when there is none.</summary>
    public static async Task<IReadOnlyList<byte[]>> FindAsync(RegistryClient registry, string repository, string digest, string artifactType,
        CancellationToken cancellationToken = default)
    {
        var manifests = new List<string>();
        if (await registry.GetReferrersAsync(repository, digest, artifactType, cancellationToken) is { } referrers)
            manifests.AddRange(referrers.Select(r => (string?)r["digest"]).OfType<string>());
        if (manifests.Count == 0 && await registry.GetDigestAsync(repository, FallbackTag(digest, SuffixOf(artifactType)), cancellationToken) is { } tagged)
            manifests.Add(tagged);
        var found = new List<byte[]>();
        foreach (var manifestDigest in manifests)
        {
            var manifest = JsonNode.Parse((await registry.GetManifestAsync(repository, manifestDigest, cancellationToken)).Content);
            // A fallback tag can be moved by anyone with push rights: only an artifact about this digest counts.
            if ((string?)manifest?["subject"]?["digest"] != digest) continue;
            foreach (var layer in manifest?["layers"]?.AsArray() ?? [])
                if ((string?)layer?["digest"] is { } blob) found.Add(await registry.GetBlobAsync(repository, blob, cancellationToken));
        }
        return found;
    }

    static JsonObject Descriptor(string mediaType, string digest, long size) => new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };
}

/// <summary>
/// Checks, before a deploy changes anything, that a digest has provenance: a DSSE envelope attached to the digest,
/// signed by a trusted key, whose in-toto statement's subject is this digest and whose source repository is the
/// expected one. Each refusal is one line saying what is missing or wrong.
/// </summary>
public static class ProvenanceVerifier
{
    public sealed record Verified(string KeyId, string SourceRepository, string Commit, string BuilderId, JsonNode Statement);

    public static async Task<Verified> VerifyAsync(RegistryClient registry, string repository, string digest,
        IReadOnlyDictionary<string, ECDsa> trustedKeys, string expectedRepository, CancellationToken cancellationToken = default)
    {
        var image = $"{registry.Registry}/{repository}@{digest}";
        var envelopes = (await Attestations.FindAsync(registry, repository, digest, Attestations.ProvenanceArtifactType, cancellationToken))
            .Select(DsseEnvelope.TryParse).OfType<DsseEnvelope>().ToList();
        if (envelopes.Count == 0)
            throw new DeliveryException($"Refusing {image}: no attestation (no signed provenance is attached to this digest)");

        string? problem = null;
        foreach (var envelope in envelopes)
        {
            var signed = envelope.Signatures.FirstOrDefault(s => trustedKeys.ContainsKey(s.KeyId));
            if (signed.Signature is null)
            {
                problem ??= $"untrusted key (signed by {string.Join(", ", envelope.Signatures.Select(s => s.KeyId.Length > 16 ? s.KeyId[..16] : s.KeyId))}, which no trusted key matches)";
                continue;
            }
            if (!envelope.IsSignedBy(trustedKeys[signed.KeyId], signed.Signature))
            {
                problem = $"bad signature (the provenance does not match its signature by key {signed.KeyId[..16]})";
                continue;
            }
            var statement = JsonNode.Parse(envelope.Payload);
            var subjects = (statement?["subject"]?.AsArray() ?? []).Select(s => (string?)s?["digest"]?["sha256"]).OfType<string>().ToList();
            if (envelope.PayloadType != ProvenanceStatement.PayloadType || (string?)statement?["predicateType"] != ProvenanceStatement.PredicateType)
            {
                problem = "no attestation (the attached envelope is not SLSA provenance)";
                continue;
            }
            if (!subjects.Contains(digest["sha256:".Length..]))
            {
                problem = $"another digest (the provenance is for sha256:{string.Join(", sha256:", subjects.Select(s => s[..12]))}…, not {digest[..19]}…)";
                continue;
            }
            var parameters = statement!["predicate"]?["buildDefinition"]?["externalParameters"];
            var source = (string?)parameters?["repository"] ?? "";
            if (!string.Equals(source.TrimEnd('/'), expectedRepository.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                problem = $"another repository (built from {(source.Length == 0 ? "no repository" : source)}, not {expectedRepository})";
                continue;
            }
            return new Verified(signed.KeyId, source, (string?)parameters?["commit"] ?? "", (string?)statement["predicate"]?["runDetails"]?["builder"]?["id"] ?? "", statement);
        }
        throw new DeliveryException($"Refusing {image}: {problem}");
    }
}
