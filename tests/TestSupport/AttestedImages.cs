using Delivery.Core;
using Delivery.Docker;

namespace TestSupport;

/// <summary>What the provenance tests of every registry share: a tiny pushed image, the facts a build would sign
/// for it, and a signed statement attached to a digest.</summary>
public static class AttestedImages
{
    public const string Source = "https://github.com/example/webapp";
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>Imports a one-file image (unique content, so a digest of its own) into <paramref name="engine"/> and
    /// pushes it; returns the pushed digest.</summary>
    public static async Task<string> PushTinyImageAsync(DockerEngineClient engine, string repository, string tag, RegistryAuth auth)
    {
        var archive = new RootFilesystemArchive();
        archive.AddText("/hello.txt", $"hello from {repository}:{tag} {Guid.NewGuid()}\n");
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        await engine.ImportImageAsync(tar, repository, tag);
        return await engine.PushImageAsync(repository, tag, auth);
    }

    public static ProvenanceFacts Facts(string repository, string digest, string source = Source) => new()
    {
        ImageRepository = repository, Digest = digest, SourceRepository = source, Commit = Commit,
        Version = "1.2.3", BuilderId = "local:test", Parameters = new Dictionary<string, string> { ["baseImage"] = "offline" },
        SbomDigest = "sha256:" + new string('a', 64), BaseImage = "webapp-base:10.0.0-offline", BaseImageDigest = "sha256:" + new string('b', 64),
    };

    public static DsseEnvelope Sign(ProvenanceFacts facts, SigningKey key) =>
        DsseEnvelope.Sign(ProvenanceStatement.PayloadType, ProvenanceStatement.Create(facts), key);

    public static Task AttachAsync(RegistryClient client, string path, string digest, DsseEnvelope envelope) =>
        Attestations.AttachAsync(client, path, digest, Attestations.ProvenanceArtifactType, DsseEnvelope.MediaType, envelope.ToJson());

    /// <summary>Asserts the one-line refusal a deploy would print for <paramref name="digest"/>.</summary>
    public static async Task<string> AssertRefusedAsync(RegistryClient reader, string repository, string path, string digest,
        IReadOnlyDictionary<string, System.Security.Cryptography.ECDsa> trusted, string why)
    {
        var e = await Assert.ThrowsAsync<DeliveryException>(() => ProvenanceVerifier.VerifyAsync(reader, path, digest, trusted, Source));
        Assert.StartsWith($"Refusing {repository}@{digest}: {why}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }
}
