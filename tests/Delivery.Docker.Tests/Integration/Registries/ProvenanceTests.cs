using System.Text;
using Delivery.Core;
using Xunit.Abstractions;
using TestSupport;
using static TestSupport.AttestedImages;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>One repository in a registry under test: pushes a tiny image by tag (returning its digest) and opens
/// registry clients signed in as the build and the deploy would be.</summary>
public sealed record AttestationRepository(string Registry, string Path, Func<string, Task<string>> PushAsync, Func<RegistryClient> Connect)
{
    public string Repository => $"{Registry}/{Path}";
}

/// <summary>Signed provenance attached to pushed digests in a real registry, read back and verified; and each refusal
/// (missing, tampered, wrong subject, wrong source, wrong key), in its one line. Each registry is a subclass.</summary>
public abstract class ProvenanceTests(ITestOutputHelper output)
{
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Starts the registry (disposed with the test class instance) and makes a fresh repository in it.</summary>
    protected abstract Task<AttestationRepository> OpenRepositoryAsync();

    /// <summary>Asserts how this registry keeps the provenance of <paramref name="digest"/> (referrers or fallback tag).</summary>
    protected abstract Task AssertStoredAsync(RegistryClient reader, AttestationRepository target, string digest);

    [Fact]
    public async Task Provenance_is_attached_read_back_and_verified_and_each_bad_case_is_refused_in_one_line()
    {
        var target = await OpenRepositoryAsync();
        var (repository, path) = (target.Repository, target.Path);
        var digest = await target.PushAsync("1");
        var other = await target.PushAsync("2");
        var unattested = await target.PushAsync("3");
        var tampered = await target.PushAsync("4");
        var foreign = await target.PushAsync("5");
        var forked = await target.PushAsync("6");

        var dir = Directory.CreateTempSubdirectory("provenance-keys-").FullName;
        try
        {
            using var key = SigningKey.LoadOrCreate(Path.Combine(dir, "state"));
            using var again = SigningKey.LoadOrCreate(Path.Combine(dir, "state"));
            Assert.Equal(key.KeyId, again.KeyId);
            using var stranger = SigningKey.LoadOrCreate(Path.Combine(dir, "another-state"));
            var trusted = SigningKey.LoadPublicKeys([Path.Combine(dir, "state", SigningKey.PublicFileName)]);

            using (var client = target.Connect())
            {
                await AttachAsync(client, path, digest, Sign(Facts(repository, digest), key));
                // Signed properly, but for another digest, and attached to `other`.
                await AttachAsync(client, path, other, Sign(Facts(repository, digest), key));
                var good = Sign(Facts(repository, tampered), key);
                var edited = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(good.Payload).Replace("1.2.3", "6.6.6"));
                await AttachAsync(client, path, tampered, good with { Payload = edited });
                await AttachAsync(client, path, foreign, Sign(Facts(repository, foreign), stranger));
                await AttachAsync(client, path, forked, Sign(Facts(repository, forked, "https://github.com/someone/fork"), key));
            }

            using var reader = target.Connect();
            var verified = await ProvenanceVerifier.VerifyAsync(reader, path, digest, trusted, Source);
            Assert.Equal(key.KeyId, verified.KeyId);
            Assert.Equal(Commit, verified.Commit);
            Assert.Equal(digest, verified.Statement["subject"]![0]!["digest"]!["sha256"]!.GetValue<string>().Insert(0, "sha256:"));
            Output.WriteLine(verified.Statement.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            await AssertStoredAsync(reader, target, digest);

            var refusals = new[]
            {
                (unattested, "no attestation"), (tampered, "bad signature"), (other, "another digest"), (forked, "another repository"), (foreign, "untrusted key"),
            };
            foreach (var (refused, why) in refusals)
                Output.WriteLine(await AssertRefusedAsync(reader, repository, path, refused, trusted, why));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>docker-registry 2.8 behind TLS: with Docker token auth, and with htpasswd (Basic) auth. It has no
/// referrers API, so the fallback tag names the artifact.</summary>
public abstract class DockerRegistryProvenanceTests(DockerFixture fixture, ITestOutputHelper output) : ProvenanceTests(output), IAsyncLifetime
{
    protected const string User = "ci-user";
    protected const string Password = "s3cret-Pa55word!";
    protected readonly List<object> Started = [];

    protected abstract Task<RegistryServer> StartRegistryAsync(string dir, PemPair ca);

    protected override async Task<AttestationRepository> OpenRepositoryAsync()
    {
        var dir = fixture.NewTempDir("provenance");
        var ca = TestCertificates.CreateAuthority(dir, "delivery-test-ca");
        var registry = await StartRegistryAsync(dir, ca);
        Started.Add(registry);
        var auth = new RegistryAuth(User, Password, registry.Address);
        var path = fixture.Name("attested");
        return new AttestationRepository(registry.Address, path,
            async tag =>
            {
                fixture.Track($"{registry.Address}/{path}:{tag}");
                return await PushTinyImageAsync(fixture.Docker, $"{registry.Address}/{path}", tag, auth);
            },
            () => new RegistryClient(registry.Address, auth));
    }

    protected override async Task AssertStoredAsync(RegistryClient reader, AttestationRepository target, string digest) =>
        Assert.NotNull(await reader.GetDigestAsync(target.Path, Attestations.FallbackTag(digest, "att")));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var started in Enumerable.Reverse(Started))
            if (started is IAsyncDisposable async) await async.DisposeAsync();
            else ((IDisposable)started).Dispose();
    }
}

[Collection(DockerRegistryCollection.Name)]
public sealed class TokenRegistryProvenanceTests(DockerFixture fixture, ITestOutputHelper output) : DockerRegistryProvenanceTests(fixture, output)
{
    protected override async Task<RegistryServer> StartRegistryAsync(string dir, PemPair ca)
    {
        var signer = TestCertificates.CreateAuthority(dir, "token-signer");
        var issuer = new TokenIssuer(signer, User, Password);
        Started.Add(issuer);
        return await RegistryServer.StartAsync(dir,
            new RegistryAuthConfig.Token(issuer.Realm, TokenIssuer.Service, TokenIssuer.IssuerName, signer.CertificateFile),
            TestCertificates.CreateServer(dir, ca), installCa: ca);
    }
}

[Collection(DockerRegistryCollection.Name)]
public sealed class BasicAuthRegistryProvenanceTests(DockerFixture fixture, ITestOutputHelper output) : DockerRegistryProvenanceTests(fixture, output)
{
    protected override Task<RegistryServer> StartRegistryAsync(string dir, PemPair ca) =>
        RegistryServer.StartAsync(dir, new RegistryAuthConfig.Htpasswd(User, Password), TestCertificates.CreateServer(dir, ca), installCa: ca);
}
