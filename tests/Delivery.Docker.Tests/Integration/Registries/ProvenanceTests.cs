using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Delivery.Core;
using Xunit.Abstractions;
using TestSupport;
using static TestSupport.AttestedImages;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>Signed provenance attached to pushed digests in a real docker-registry (TLS, Docker tokens), read back and
/// verified; and each refusal, in its one line.</summary>
[Collection(DockerRegistryCollection.Name)]
public sealed class ProvenanceTests(DockerFixture fixture, ITestOutputHelper output)
{
    const string User = "ci-user";
    const string Password = "s3cret-Pa55word!";

    async Task<string> PushTinyImageAsync(string repository, string tag, RegistryAuth auth)
    {
        fixture.Track($"{repository}:{tag}");
        return await AttestedImages.PushTinyImageAsync(fixture.Docker, repository, tag, auth);
    }

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
        await AttachAsync(client, path, digest, Sign(Facts(repository, digest), key));
        // Signed properly, but for another digest, and attached to `other`.
        await AttachAsync(client, path, other, Sign(Facts(repository, digest), key));
        var good = Sign(Facts(repository, tampered), key);
        var edited = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(good.Payload).Replace("1.2.3", "6.6.6"));
        await AttachAsync(client, path, tampered, good with { Payload = edited });
        await AttachAsync(client, path, foreign, Sign(Facts(repository, foreign), stranger));
        await AttachAsync(client, path, forked, Sign(Facts(repository, forked, "https://github.com/someone/fork"), key));

        using var reader = new RegistryClient(registry.Address, auth);
        var verified = await ProvenanceVerifier.VerifyAsync(reader, path, digest, trusted, Source);
        Assert.Equal(key.KeyId, verified.KeyId);
        Assert.Equal(Commit, verified.Commit);
        output.WriteLine(verified.Statement.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        // Without the referrers API (docker-registry 2.8), the fallback tag names the artifact.
        Assert.NotNull(await reader.GetDigestAsync(path, Attestations.FallbackTag(digest, "att")));

        var refusals = new[]
        {
            (unattested, "no attestation"), (tampered, "bad signature"), (other, "another digest"), (forked, "another repository"), (foreign, "untrusted key"),
        };
        foreach (var (refused, why) in refusals)
            output.WriteLine(await AssertRefusedAsync(reader, repository, path, refused, trusted, why));
    }

}
