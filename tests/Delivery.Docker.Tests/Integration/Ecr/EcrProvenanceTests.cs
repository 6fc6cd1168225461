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
/// by digest through ECR's referrers API. The provenance cases shared with docker-registry come from
/// <see cref="ProvenanceTests"/>.
/// </summary>
[Collection(EcrRegistryHostCollection.Name)]
public sealed class EcrProvenanceTests(EcrBackedFixture ecr, ITestOutputHelper output) : ProvenanceTests(output), IClassFixture<EcrBackedFixture>, IAsyncLifetime
{
    EcrHostUnderTest ecrHost = null!;
    IDisposable routed = null!;
    PrivateDockerd? engine;

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
        if (engine is not null) await engine.DisposeAsync();
        routed.Dispose();
        await ecrHost.DisposeAsync();
    }

    /// <summary>A private engine whose registry traffic goes through the proxy, trusting the test CA (Go reads
    /// SSL_CERT_FILE); the login as the build gets it: a token from GetAuthorizationToken (SigV4-checked), user AWS.</summary>
    protected override async Task<AttestationRepository> OpenRepositoryAsync()
    {
        engine = await PrivateDockerd.StartAsync("ecrp", ecrHost.ClientEnvironment);
        var docker = new DockerEngineClient(DockerEndpoint.Parse(engine.Host));
        using var ecrClient = new EcrClient(ecr.Settings());
        var login = await ecrClient.GetAuthorizationTokenAsync();
        Assert.Equal(Front.Host, login.Registry);
        Assert.NotNull(EcrRegistry.TryParse(login.Registry));
        var auth = new RegistryAuth(login.Username, login.Password, login.Registry);
        var path = "webapp-" + Guid.NewGuid().ToString("N")[..8];
        await ecrClient.EnsureRepositoryAsync(AwsTestEndpoint.Account, path, immutableTags: false);
        return new AttestationRepository(login.Registry, path,
            tag => PushTinyImageAsync(docker, $"{login.Registry}/{path}", tag, auth),
            () => new RegistryClient(login.Registry, auth, Trust));
    }

    /// <summary>ECR has the referrers API: the provenance is found through it, and no sha256-&lt;hex&gt;.att tag is written.</summary>
    protected override async Task AssertStoredAsync(RegistryClient reader, AttestationRepository target, string digest)
    {
        Assert.Contains(Front.Received, r => r.StartsWith($"GET /v2/{target.Path}/referrers/{digest}?artifactType=", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal));
        Assert.Null(await reader.GetDigestAsync(target.Path, Attestations.FallbackTag(digest, "att")));
        Assert.All(ecrHost.Proxy.Tunnels, t => Assert.Equal($"{Front.Host}:443", t));
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
    public async Task A_pushed_digest_is_the_manifest_ECR_serves_and_is_pulled_by_digest_into_an_engine_without_it()
    {
        var target = await OpenRepositoryAsync();
        var digest = await target.PushAsync("1");
        using var ecrClient = new EcrClient(ecr.Settings());
        var manifest = (await ecrClient.BatchGetImageAsync(AwsTestEndpoint.Account, target.Path, digest)).Manifest;
        Assert.Equal($"sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest)))}", digest);

        // The deploy's pull, by digest, of the verified image: into an engine that does not have it.
        Assert.True((await engine!.DockerAsync("rmi", $"{target.Repository}:1")).Succeeded);
        var login = await ecrClient.GetAuthorizationTokenAsync();
        await new DockerEngineClient(DockerEndpoint.Parse(engine.Host)).PullImageAsync(target.Repository, digest,
            new RegistryAuth(login.Username, login.Password, login.Registry));
        var pulled = await engine.DockerAsync("image", "inspect", "--format", "{{index .RepoDigests 0}}", $"{target.Repository}@{digest}");
        Assert.Equal($"{target.Repository}@{digest}", pulled.StandardOutput.Trim());
        Assert.All(ecrHost.Proxy.Tunnels, t => Assert.Equal($"{Front.Host}:443", t));
        foreach (var line in Front.Received) Output.WriteLine(line);
    }
}

/// <summary>The classes that route this process to an ECR registry host (<see cref="EcrHostUnderTest.RouteThisProcess"/>
/// sets HttpClient.DefaultProxy, which is process-wide) run one after another, never side by side.</summary>
[CollectionDefinition(Name)]
public sealed class EcrRegistryHostCollection
{
    public const string Name = "ECR registry host, routed in this process";
}
