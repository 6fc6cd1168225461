using BuildGraph;
using Delivery.Core;
using Delivery.Docker;
using Delivery.Hosts;

/// <summary>Supply chain: Push signs a provenance statement for the pushed digest and attaches it and the SBOM to
/// the digest in the registry; deploys verify that provenance before any host changes.</summary>
partial class Build
{
    [Parameter("Deploy a digest without valid provenance (a warning; the deploy log notes it)")]
    readonly bool AllowUnattested;

    [Parameter("Public keys (PEM) whose provenance signatures deploys trust; default: the state folder's own signing key")]
    readonly string[] TrustedKeys = [];

    [Parameter("The source repository deploys require the provenance to name; default: this repository's URL")]
    readonly string? ExpectedSource;

    AbsolutePath SigningDirectory => StatePath / "provenance";
    AbsolutePath ProvenanceFile => ArtifactsDirectory / "provenance.intoto.json";

    /// <summary>Signs the in-toto statement for the pushed digest with the state folder's key (made on first use)
    /// and attaches it, and the SBOM, to the digest in its registry.</summary>
    async Task AttestPushed(ImageManifest image, BuiltImage built)
    {
        using var key = SigningKey.LoadOrCreate(SigningDirectory);
        var (registry, path) = SplitRepository(image.Repository);
        using var client = new RegistryClient(registry, await RegistryLoginFor(registry));
        var run = EnvironmentVariable("GITHUB_RUN_ID") is { } id ? $"{EnvironmentVariable("GITHUB_SERVER_URL")}/{EnvironmentVariable("GITHUB_REPOSITORY")}/actions/runs/{id}" : null;
        var statement = ProvenanceStatement.Create(new ProvenanceFacts
        {
            ImageRepository = image.Repository, Digest = image.Digest, SourceRepository = await ExpectedSourceRepository(), Commit = image.Commit,
            Version = image.Version, SbomDigest = built.Sbom, BaseImage = built.BaseImage, BaseImageDigest = built.BaseImageDigest,
            BuilderId = EnvironmentVariable("GITHUB_WORKFLOW_REF") is { } workflow ? $"{EnvironmentVariable("GITHUB_SERVER_URL")}/{workflow}" : "local:delivery-build",
            InvocationId = run,
            Parameters = new Dictionary<string, string> { ["baseImage"] = BaseImage, ["imageName"] = ImageName, ["registry"] = Registry },
        });
        await File.WriteAllBytesAsync(ProvenanceFile, statement, CancellationToken);
        var envelope = DsseEnvelope.Sign(ProvenanceStatement.PayloadType, statement, key);
        await Attestations.AttachAsync(client, path, image.Digest, Attestations.ProvenanceArtifactType, DsseEnvelope.MediaType, envelope.ToJson(), CancellationToken);
        if (SbomFile.FileExists)
            await Attestations.AttachAsync(client, path, image.Digest, Attestations.SbomArtifactType, Attestations.SbomMediaType, await File.ReadAllBytesAsync(SbomFile, CancellationToken), CancellationToken);
        Log.Information($"Attested {image.Reference[..Math.Min(image.Reference.Length, image.Repository.Length + 20)]}…: provenance signed by key {key.KeyId[..16]} " +
                        $"({Path.GetRelativePath(RootDirectory, SigningDirectory / SigningKey.PublicFileName)}){(SbomFile.FileExists ? " and the SBOM" : "")}, attached in {registry}");
    }

    /// <summary>Why the digest being deployed has no valid provenance, when --allow-unattested let it through; the
    /// deploy passes it to the release record.</summary>
    string? unattestedReason;

    /// <summary>Before a deploy changes any host: the digest's provenance must be signed by a trusted key, about this
    /// digest, from this repository. --allow-unattested deploys anyway, with a warning, and the release record notes it.</summary>
    async Task VerifyProvenance(DeployEnvironment environment, PinnedImage release)
    {
        unattestedReason = null;
        try
        {
            // A CI runner starts without the state folder: there the workflow's `gh attestation verify` step checks
            // GitHub's attestation of the digest before this job runs the build.
            if (TrustedKeys.Length == 0 && !File.Exists(OwnPublicKeyFile) && EnvironmentVariable("GITHUB_ACTIONS") == "true")
            {
                Log.Information($"{environment.Name}: provenance of {release.ShortDigest} was checked by the workflow (gh attestation verify); no build key is trusted on this runner");
                return;
            }
            var verified = await CheckProvenance(release.Repository, release.Digest);
            Log.Information($"{environment.Name}: {release.Version} ({release.ShortDigest}) has provenance: built from {verified.SourceRepository} at {verified.Commit[..Math.Min(12, verified.Commit.Length)]} by {verified.BuilderId}, signed by key {verified.KeyId[..16]}");
        }
        catch (DeliveryException e) when (AllowUnattested)
        {
            Log.Warning($"{environment.Name}: deploying {release.Version} ({release.ShortDigest}) UNATTESTED (--allow-unattested): {e.Message}");
            unattestedReason = RefusalReason(e.Message);
        }
    }

    AbsolutePath OwnPublicKeyFile => SigningDirectory / SigningKey.PublicFileName;

    /// <summary>The one check of a digest's provenance (signed by a trusted key, about this digest, from this
    /// repository); throws the one-line refusal.</summary>
    async Task<ProvenanceVerifier.Verified> CheckProvenance(string repository, string digest)
    {
        if (TrustedKeys.Length == 0 && !File.Exists(OwnPublicKeyFile))
            throw new DeliveryException($"Refusing {repository}@{digest}: untrusted key (no trusted key: {Path.GetRelativePath(RootDirectory, OwnPublicKeyFile)} does not exist; pass --trusted-keys)");
        var trusted = SigningKey.LoadPublicKeys(TrustedKeys.Length > 0 ? TrustedKeys : [OwnPublicKeyFile]);
        var (registry, path) = SplitRepository(repository);
        using var client = new RegistryClient(registry, await RegistryLoginFor(registry));
        return await ProvenanceVerifier.VerifyAsync(client, path, digest, trusted, await ExpectedSourceRepository(), CancellationToken);
    }

    /// <summary>For Status: whether a running image (repository@digest) has provenance a deploy would accept now:
    /// "yes", or "NO: " and what is missing or wrong. Each digest is checked once per run.</summary>
    async Task<string> AttestationOf(string? image)
    {
        if (image?.Split('@') is not [var repository, var digest]) return "?";
        attestations ??= new Dictionary<string, string>();
        if (attestations.TryGetValue(image, out var known)) return known;
        try
        {
            await CheckProvenance(repository, digest);
            known = "yes";
        }
        catch (DeliveryException e)
        {
            known = $"NO: {RefusalReason(e.Message)}";
        }
        return attestations[image] = known;
    }

    Dictionary<string, string>? attestations;

    /// <summary>"no attestation", "bad signature", … : the refusal line without the image and the details.</summary>
    static string RefusalReason(string refusal)
    {
        var reason = refusal.StartsWith("Refusing ", StringComparison.Ordinal) && refusal.IndexOf(": ", StringComparison.Ordinal) is > 0 and var at
            ? refusal[(at + 2)..]
            : refusal;
        return reason.Split(" (")[0];
    }

    async Task<string> ExpectedSourceRepository() => ExpectedSource ?? (await SourceUrl() is { Length: > 0 } url ? url : "local");
}
