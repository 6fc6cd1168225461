using System.Text;
using Aws.TestEndpoint;
using Delivery.Aws;
using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Sites;
using TestSupport;
using Xunit.Abstractions;
using static TestSupport.AttestedImages;

namespace Delivery.Docker.Tests.Integration.Ecr;

/// <summary>
/// An attested release from ECR deployed on a host through SSM: the host (a fake instance of the test endpoint) runs
/// the real deploy scripts against an engine that reaches the ECR name (a private dockerd behind the egress proxy),
/// named in its host configuration (docker_host), with its pull login in a docker config of its own (docker_config),
/// its own state root, app prefix and public port. The deploy serves the release; an unattested digest is refused by
/// the provenance check and the host keeps serving what it served.
/// </summary>
[Collection(EcrRegistryHostCollection.Name)]
public sealed class EcrDeployTests(EcrBackedFixture ecr, ITestOutputHelper output) : IClassFixture<EcrBackedFixture>
{
    AwsTestEndpoint Endpoint => ecr.Endpoint;

    [Fact]
    public async Task An_attested_ECR_digest_is_deployed_and_served_by_a_host_whose_engine_reaches_ECR_and_an_unattested_one_leaves_it_untouched()
    {
        Endpoint.EcrPassword = "ecr-token-" + Guid.NewGuid().ToString("N");
        await using var ecrHost = await EcrHostUnderTest.StartAsync(Endpoint);
        using var routed = ecrHost.RouteThisProcess();
        await using var engine = await PrivateDockerd.StartAsync("ecrd", ecrHost.ClientEnvironment);
        var dir = Directory.CreateTempSubdirectory("ecr-deploy-").FullName;
        var settings = ecr.Settings() with { SsmEndpoint = Endpoint.Url };
        var instance = Endpoint.AddInstance($"i-0{Guid.NewGuid():N}"[..19]);
        var host = new HostSettings { StateRoot = Path.Combine(dir, "state"), AppName = $"ecrd{instance.Id[^6..]}", DockerHost = engine.Host };
        try
        {
            using var ecrClient = new EcrClient(settings);
            var login = await ecrClient.GetAuthorizationTokenAsync();
            var auth = new RegistryAuth(login.Username, login.Password, login.Registry);
            var path = "webapp-" + Guid.NewGuid().ToString("N")[..8];
            await ecrClient.EnsureRepositoryAsync(AwsTestEndpoint.Account, path, immutableTags: false);
            // What `docker login` writes, as the host's standing login (an ECR credential helper's job on EC2).
            var dockerConfig = await HostConfigFiles.WriteDockerLoginAsync(Path.Combine(dir, "docker"), login.Registry, login.Username, login.Password);
            var attested = await TestImages.BuildAndPushAsync(login.Registry, path, "1.0.0", ImageBehaviour.Healthy, dockerConfig, engine.Host);
            var unattested = await TestImages.BuildAndPushAsync(login.Registry, path, "1.1.0", ImageBehaviour.Healthy, dockerConfig, engine.Host);
            var repository = $"{login.Registry}/{path}";
            using var key = SigningKey.LoadOrCreate(Path.Combine(dir, "keys"));
            var trusted = SigningKey.LoadPublicKeys([Path.Combine(dir, "keys", SigningKey.PublicFileName)]);
            using var registry = new RegistryClient(login.Registry, auth, ecrHost.Trust);
            await AttachAsync(registry, path, attested.Digest, Sign(Facts(repository, attested.Digest), key));

            var port = await HostConfigFiles.WriteProductionHostEnvAsync(Path.Combine(dir, "host.env"), host, dockerConfig);
            instance.Environment["WEBAPP_HOST_CONFIG"] = Path.Combine(dir, "host.env");
            using var ssm = new SsmClient(settings);
            var deployer = new Deployer(new SsmFleetSite(ssm, SsmTargets.Instances(instance.Id),
                new FleetOptions { PollInterval = TimeSpan.FromMilliseconds(200), DeliveryTimeoutSeconds = 60, ExecutionTimeoutSeconds = 120 }, host.AppName), new HostSettings());

            // The deploy's order: the provenance check, then the hosts.
            var verified = await ProvenanceVerifier.VerifyAsync(registry, path, attested.Digest, trusted, Source);
            Assert.Equal(key.KeyId, verified.KeyId);
            await deployer.DeployAsync(DeployEnvironment.Production, attested, new DeployOptions { DeployedBy = "ecr-deploy-test" });

            Assert.Equal("1.0.0", await VersionAsync(port));
            // The one container of this host runs in the private engine, from the image pulled by the attested digest.
            var running = (await engine.DockerAsync("ps", "--quiet", "--filter", $"label=webapp.app={host.AppName}")).StandardOutput.Trim();
            Assert.Single(running.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            var pulled = await engine.DockerAsync("image", "inspect", "--format", "{{.Id}}", $"{repository}@{attested.Digest}");
            Assert.True(pulled.Succeeded, pulled.StandardError);
            Assert.Equal(pulled.StandardOutput.Trim(), (await engine.DockerAsync("inspect", "--format", "{{.Image}}", running)).StandardOutput.Trim());
            var shared = await Tools.Run("docker", "ps", "--all", "--quiet", "--filter", $"label=webapp.app={host.AppName}");
            Assert.Equal("", shared.StandardOutput.Trim());
            Assert.Contains(ecrHost.Front.Received, r => r.StartsWith($"GET /v2/{path}/manifests/{attested.Digest} ", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal));
            Assert.All(ecrHost.Proxy.Tunnels, t => Assert.Equal($"{ecrHost.Host}:443", t));
            Assert.False(File.Exists(Path.Combine(dir, "state", "registry", "docker", "config.json")), "no login of the deploy's own was written");

            var sent = Endpoint.CommandTexts.Count;
            output.WriteLine(await AssertRefusedAsync(registry, repository, path, unattested.Digest, trusted, "no attestation"));
            Assert.Equal(sent, Endpoint.CommandTexts.Count);
            Assert.Equal("1.0.0", await VersionAsync(port));
            Assert.False((await engine.DockerAsync("image", "inspect", $"{repository}@{unattested.Digest}")).Succeeded, "the refused digest was never pulled");
            foreach (var line in ecrHost.Front.Received) output.WriteLine(line);
        }
        finally
        {
            try { await new Deployer(new LocalHost(), host).TeardownAllAsync(new DeployOptions { DeployedBy = "ecr-deploy-test", LockWait = TimeSpan.FromSeconds(30) }); }
            catch (DeliveryException) { }
            Directory.Delete(dir, recursive: true);
        }
    }

    static async Task<string> VersionAsync(int port)
    {
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/version");
        return response.IsSuccessStatusCode ? (await response.Content.ReadAsStringAsync()).Trim() : $"HTTP {(int)response.StatusCode}";
    }
}
