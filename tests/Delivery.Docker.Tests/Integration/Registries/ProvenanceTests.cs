using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Delivery.Core;
using Xunit.Abstractions;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>Signed provenance attached to pushed digests in a real docker-registry (TLS, Docker tokens), read back and
/// verified; and each refusal, in its one line.</summary>
[Collection(DockerRegistryCollection.Name)]
public sealed class ProvenanceTests(DockerFixture fixture, ITestOutputHelper output)
{
    const string User = "ci-user";
    const string Password = "s3cret-Pa55word!";
    const string Source = "https://github.com/example/webapp";

    async Task<string> PushTinyImageAsync(string repository, string tag, RegistryAuth auth)
    {
        var archive = new RootFilesystemArchive();
        archive.AddText("/hello.txt", $"hello from {fixture.Prefix} {Guid.NewGuid()}\n");
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        fixture.Track($"{repository}:{tag}");
        await fixture.Docker.ImportImageAsync(tar, repository, tag);
        return await fixture.Docker.PushImageAsync(repository, tag, auth);
    }

    static ProvenanceFacts Facts(string repository, string digest, string source = Source) => new()
    {
        ImageRepository = repository, Digest = digest, SourceRepository = source, Commit = "0123456789abcdef0123456789abcdef01234567",
        Version = "1.2.3", BuilderId = "local:test", Parameters = new Dictionary<string, string> { ["baseImage"] = "offline" },
        SbomDigest = "sha256:" + new string('a', 64), BaseImage = "webapp-base:10.0.0-offline", BaseImageDigest = "sha256:" + new string('b', 64),
    };

    static Task<string> AttachAsync(RegistryClient client, string path, string digest, DsseEnvelope envelope) =>
        Attestations.AttachAsync(client, path, digest, Attestations.ProvenanceArtifactType, DsseEnvelope.MediaType, envelope.ToJson());

    [Fact]
    public async Task Provenance_is_attached_read_back_and_verified_and_each_bad_case_is_refused_in_one_line()
    {
        var dir = fixture.NewTempDir("provenance");
        var signer = TestCertificates.CreateAuthority(dir, "token-signer");
        var ca = TestCertificates.CreateAuthority(dir, "delivery-test-ca");
        using var issuer = new TokenIssuer(signer, User, Password);
        await using var registry = await RegistryServer.StartAsync(dir,
            new RegistryAuthConfig.Token(issuer.Realm, TokenIssuer.Service, TokenIssuer.IssuerName, signer.CertificateFile),
            TestCertificates.CreateServer(dir, ca), installCa: ca);
        var path = fixture.Name("attested");
        var repository = $"{registry.Address}/{path}";
        var auth = new RegistryAuth(User, Password, registry.Address);
        var digest = await PushTinyImageAsync(repository, "1", auth);
        var other = await PushTinyImageAsync(repository, "2", auth);
        var unattested = await PushTinyImageAsync(repository, "3", auth);
        var tampered = await PushTinyImageAsync(repository, "4", auth);
        var foreign = await PushTinyImageAsync(repository, "5", auth);
        var forked = await PushTinyImageAsync(repository, "6", auth);

        using var key = SigningKey.LoadOrCreate(Path.Combine(dir, "state"));
        using var again = SigningKey.LoadOrCreate(Path.Combine(dir, "state"));
        Assert.Equal(key.KeyId, again.KeyId);
        using var stranger = SigningKey.LoadOrCreate(Path.Combine(dir, "another-state"));
        var trusted = SigningKey.LoadPublicKeys([Path.Combine(dir, "state", SigningKey.PublicFileName)]);

        using var client = new RegistryClient(registry.Address, auth);
        await AttachAsync(client, path, digest, DsseEnvelope.Sign(ProvenanceStatement.PayloadType, ProvenanceStatement.Create(Facts(repository, digest)), key));
        // Signed properly, but for another digest, and attached to `other`.
        await AttachAsync(client, path, other, DsseEnvelope.Sign(ProvenanceStatement.PayloadType, ProvenanceStatement.Create(Facts(repository, digest)), key));
        var good = DsseEnvelope.Sign(ProvenanceStatement.PayloadType, ProvenanceStatement.Create(Facts(repository, tampered)), key);
        var edited = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(good.Payload).Replace("1.2.3", "6.6.6"));
        await AttachAsync(client, path, tampered, good with { Payload = edited });
        await AttachAsync(client, path, foreign, DsseEnvelope.Sign(ProvenanceStatement.PayloadType, ProvenanceStatement.Create(Facts(repository, foreign)), stranger));
        await AttachAsync(client, path, forked, DsseEnvelope.Sign(ProvenanceStatement.PayloadType, ProvenanceStatement.Create(Facts(repository, forked, "https://github.com/someone/fork")), key));

        using var reader = new RegistryClient(registry.Address, auth);
        var verified = await ProvenanceVerifier.VerifyAsync(reader, path, digest, trusted, Source);
        Assert.Equal(key.KeyId, verified.KeyId);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", verified.Commit);
        output.WriteLine(verified.Statement.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        // Without the referrers API (docker-registry 2.8), the fallback tag names the artifact.
        Assert.NotNull(await reader.GetDigestAsync(path, Attestations.FallbackTag(digest, "att")));

        var refusals = new[]
        {
            (unattested, "no attestation"), (tampered, "bad signature"), (other, "another digest"), (forked, "another repository"), (foreign, "untrusted key"),
        };
        foreach (var (refused, why) in refusals)
        {
            var e = await Assert.ThrowsAsync<DeliveryException>(() => ProvenanceVerifier.VerifyAsync(reader, path, refused, trusted, Source));
            output.WriteLine(e.Message);
            Assert.StartsWith($"Refusing {repository}@{refused}: {why}", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

}
