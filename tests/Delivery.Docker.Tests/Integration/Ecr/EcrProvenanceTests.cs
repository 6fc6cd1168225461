using System.Net;
using System.Security.Cryptography;
using System.Text;
using Aws.TestEndpoint;
using Delivery.Core;
using Delivery.Docker.Tests.Integration.Registries;
using TestSupport;
using Xunit.Abstractions;
using static TestSupport.AttestedImages;

namespace Delivery.Docker.Tests.Integration.Ecr;

/// <summary>
/// Provenance through ECR on the AWS test endpoint: the registry host <c>&lt;account&gt;.dkr.ecr.&lt;region&gt;.amazonaws.com</c>
/// over TLS with the GetAuthorizationToken login, reached by name through an HTTPS proxy (no /etc/hosts change): a
/// private engine pushes and pulls, and the registry client (the code a deploy runs) writes and reads the provenance
/// by digest through ECR's referrers API.
/// </summary>
public sealed class EcrProvenanceTests(EcrBackedFixture ecr, ITestOutputHelper output) : IClassFixture<EcrBackedFixture>, IAsyncLifetime
{
    readonly string dir = Directory.CreateTempSubdirectory("ecr-provenance-").FullName;
    EcrHostUnderTest ecrHost = null!;
    IDisposable routed = null!;

    AwsTestEndpoint Endpoint => ecr.Endpoint;
    EcrRegistryHost Front => ecrHost.Front;
    RegistryClientOptions Trust => ecrHost.Trust;

    public async Task InitializeAsync()
    {
        Endpoint.EcrPassword = "ecr-token-" + Guid.NewGuid().ToString("N");
        ecrHost = await EcrHostUnderTest.StartAsync(Endpoint);
        routed = ecrHost.RouteThisProcess();
    }

    public async Task DisposeAsync()
    {
        routed.Dispose();
        await ecrHost.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task The_registry_host_asks_for_the_ECR_login_and_refuses_another_password()
    {
        using (var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && ecrHost.Signed(c) }))
        {
            using var response = await http.GetAsync($"https://{Front.Host}/v2/");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal($"Basic realm=\"https://{AwsTestEndpoint.Account}.dkr.ecr.{Endpoint.Region}.amazonaws.com/\",service=\"ecr.amazonaws.com\"",
                response.Headers.WwwAuthenticate.ToString());
        }
        using var ecrClient = new EcrClient(ecr.Settings());
        var login = await ecrClient.GetAuthorizationTokenAsync();
        var path = "refused-" + Guid.NewGuid().ToString("N")[..8];

        using var anonymous = new RegistryClient(login.Registry, options: Trust);
        var none = await Assert.ThrowsAsync<DeliveryException>(() => anonymous.GetDigestAsync(path, "1"));
        Assert.StartsWith($"Registry {Front.Host} (https) needs credentials for repository {path}", none.Message);

        using var wrong = new RegistryClient(login.Registry, new RegistryAuth(login.Username, login.Password + "x", login.Registry), Trust);
        var refused = await Assert.ThrowsAsync<DeliveryException>(() => wrong.GetDigestAsync(path, "1"));
        Assert.Equal($"Registry {Front.Host} (https) refused the credentials of AWS for repository {path}", refused.Message);
        Assert.DoesNotContain(login.Password, refused.Message);
        Assert.All(ecrHost.Proxy.Tunnels, t => Assert.Equal($"{Front.Host}:443", t));
    }

    [Fact]
    public async Task Provenance_is_written_and_read_back_by_digest_and_an_unattested_digest_is_refused_in_one_line()
    {
        // The engine's own registry traffic: through the proxy, trusting the test CA (Go reads SSL_CERT_FILE).
        await using var engine = await PrivateDockerd.StartAsync("ecrp", ecrHost.ClientEnvironment);
        var docker = new DockerEngineClient(DockerEndpoint.Parse(engine.Host));

        // As the build signs in to an ECR registry: a token from GetAuthorizationToken (SigV4-checked), user AWS.
        using var ecrClient = new EcrClient(ecr.Settings());
        var login = await ecrClient.GetAuthorizationTokenAsync();
        Assert.Equal(Front.Host, login.Registry);
        Assert.NotNull(EcrRegistry.TryParse(login.Registry));
        var auth = new RegistryAuth(login.Username, login.Password, login.Registry);
        var path = "webapp-" + Guid.NewGuid().ToString("N")[..8];
        await ecrClient.EnsureRepositoryAsync(AwsTestEndpoint.Account, path, immutableTags: false);
        var repository = $"{login.Registry}/{path}";
        var attested = await PushTinyImageAsync(docker, repository, "1", auth);
        var unattested = await PushTinyImageAsync(docker, repository, "2", auth);

        using var key = SigningKey.LoadOrCreate(Path.Combine(dir, "state"));
        var trusted = SigningKey.LoadPublicKeys([Path.Combine(dir, "state", SigningKey.PublicFileName)]);
        using (var writer = new RegistryClient(login.Registry, auth, Trust))
            await AttachAsync(writer, path, attested, Sign(Facts(repository, attested), key));

        using var reader = new RegistryClient(login.Registry, auth, Trust);
        var verified = await ProvenanceVerifier.VerifyAsync(reader, path, attested, trusted, Source);
        Assert.Equal(key.KeyId, verified.KeyId);
        Assert.Equal(Commit, verified.Commit);
        Assert.Equal($"sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((await ecrClient.BatchGetImageAsync(AwsTestEndpoint.Account, path, attested)).Manifest)))}", attested);
        // ECR has the referrers API: the provenance is found through it, and no sha256-<hex>.att tag is written.
        Assert.Contains(Front.Received, r => r.StartsWith($"GET /v2/{path}/referrers/{attested}?artifactType=", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal));
        Assert.Null(await reader.GetDigestAsync(path, Attestations.FallbackTag(attested, "att")));

        output.WriteLine(await AssertRefusedAsync(reader, repository, path, unattested, trusted, "no attestation"));

        // The deploy's pull, by digest, of the verified image: into an engine that does not have it.
        Assert.True((await engine.DockerAsync("rmi", $"{repository}:1", $"{repository}:2")).Succeeded);
        await docker.PullImageAsync(repository, attested, auth);
        var pulled = await engine.DockerAsync("image", "inspect", "--format", "{{index .RepoDigests 0}}", $"{repository}@{attested}");
        Assert.Equal($"{repository}@{attested}", pulled.StandardOutput.Trim());
        Assert.All(ecrHost.Proxy.Tunnels, t => Assert.Equal($"{Front.Host}:443", t));
        foreach (var line in Front.Received) output.WriteLine(line);
    }
}
