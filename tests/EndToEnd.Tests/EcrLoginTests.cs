using Aws.TestEndpoint;
using Delivery.Core;
using Delivery.Docker;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>The AWS test endpoint (SigV4 checked, ECR login) for one test class.</summary>
public sealed class AwsEndpointFixture : IAsyncLifetime
{
    public AwsTestEndpoint Endpoint { get; private set; } = null!;

    public async Task InitializeAsync() => Endpoint = await AwsTestEndpoint.StartAsync();

    public async Task DisposeAsync() => await Endpoint.DisposeAsync();
}

/// <summary>The AWS test endpoint with its ECR registry host (TLS front, proxy, CA), images in a real docker-registry.</summary>
public sealed class EcrHostFixture : IAsyncLifetime
{
    public AwsTestEndpoint Endpoint { get; private set; } = null!;
    public TestRegistry Backing { get; private set; } = null!;
    public EcrHostUnderTest Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Endpoint = await AwsTestEndpoint.StartAsync();
        Backing = await TestRegistry.StartAsync();
        Endpoint.Ecr.BackingRegistry = Backing.Address;
        Host = await EcrHostUnderTest.StartAsync(Endpoint);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Endpoint.DisposeAsync();
        await Backing.DisposeAsync();
    }
}

/// <summary>
/// An ECR registry needs no registry password: the build asks ECR for a token with the AWS credential chain, as the
/// OIDC-authenticated CI jobs do. The API endpoint is the test endpoint (AWS_ENDPOINT_URL_ECR); the registry host is
/// the endpoint's ECR front, which the build reaches by its AWS name through HTTPS_PROXY (EcrHostUnderTest).
/// </summary>
[Collection(ImageCloneCollection.Name)]
public sealed class EcrLoginTests(CloneFixture clone, EcrHostFixture aws) : CloneTests(clone), IClassFixture<EcrHostFixture>
{
    const string Registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    const string EcrPassword = "ecr-token-password-that-must-never-print";

    Task<BuildRun> PromoteFromEcrAsync(string secretKey, params string[] arguments) => BuildWithEcrAsync(secretKey, ["DeployProduction", .. arguments]);

    /// <summary>./build.sh <paramref name="arguments"/> --skip with --registry the ECR registry, the AWS credentials and
    /// the way to its registry host (the proxy and the CA bundle), plus <paramref name="more"/>.</summary>
    Task<BuildRun> BuildWithEcrAsync(string secretKey, string[] arguments, IReadOnlyDictionary<string, string?>? more = null)
    {
        aws.Endpoint.EcrPassword = EcrPassword;
        var environment = new Dictionary<string, string?>(aws.Host.ClientEnvironment.ToDictionary(e => e.Key, e => (string?)e.Value))
        {
            ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = secretKey,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_ENDPOINT_URL"] = null,
            ["AWS_ENDPOINT_URL_ECR"] = aws.Endpoint.Url.ToString(),
        };
        foreach (var (name, value) in more ?? new Dictionary<string, string?>()) environment[name] = value;
        var deploy = arguments[0] == "DeployProduction" ? new[] { "--allow-unverified" } : [];
        return Clone.BuildAsync(environment, [.. arguments, "--skip", "--registry", Registry, .. deploy]);
    }

    /// <summary>A release <paramref name="version"/> of webapp in the ECR repository, uploaded through the registry host.</summary>
    async Task<string> UploadReleaseAsync(string version)
    {
        using var ecr = new EcrClient(new Delivery.Aws.AwsSettings
        {
            Region = aws.Endpoint.Region, EcrEndpoint = aws.Endpoint.Url,
            Credentials = new Amazon.Runtime.BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey),
        });
        await ecr.EnsureRepositoryAsync(AwsTestEndpoint.Account, "webapp", immutableTags: false);
        var login = await ecr.GetAuthorizationTokenAsync();
        using var routed = aws.Host.RouteThisProcess();
        using var registry = new RegistryClient(Registry, new RegistryAuth(login.Username, login.Password, Registry), aws.Host.Trust);
        return await TinyImage.UploadAsync(registry, "webapp", version);
    }

    [Fact]
    public async Task An_ECR_release_without_provenance_is_refused_in_one_line_after_the_login_with_a_token_from_the_AWS_credential_chain()
    {
        Assert.Equal(Registry, aws.Host.Host);
        var keys = Directory.CreateTempSubdirectory("ecr-login-keys-").FullName;
        using (SigningKey.LoadOrCreate(keys)) { }
        var digest = await UploadReleaseAsync("1.2.3");
        var before = aws.Endpoint.Received.Count;
        var seen = aws.Host.Front.Received.Count;

        var run = await PromoteFromEcrAsync(AwsTestEndpoint.SecretKey, "--promote-version", "1.2.3", "--trusted-keys", Path.Combine(keys, SigningKey.PublicFileName));

        Assert.Contains(run.OutputLines, l => l.StartsWith($"Signed in to {Registry} as AWS with an ECR token (valid until ", StringComparison.Ordinal));
        Assert.Contains(aws.Endpoint.Received.Skip(before), r => r.Contains("GetAuthorizationToken", StringComparison.Ordinal));
        BuildAssert.HasLine(run, l => l.EndsWith($"{Registry}/webapp:1.2.3 is {digest} (https)", StringComparison.Ordinal), "the release's digest from the registry host");
        var message = BuildAssert.TargetFailure(run, "DeployProduction");
        Assert.StartsWith($"Refusing {Registry}/webapp@{digest}: no attestation", message);
        // The build asked the registry host for the digest's referrers; nothing was pulled, so no host changed.
        var requests = aws.Host.Front.Received.Skip(seen).ToList();
        Assert.Contains(requests, r => r.StartsWith($"GET /v2/webapp/referrers/{digest}?", StringComparison.Ordinal));
        Assert.DoesNotContain(requests, r => r.StartsWith("GET /v2/webapp/blobs/", StringComparison.Ordinal));
        BuildAssert.DoesNotContain(run, EcrPassword);
        BuildAssert.DoesNotContain(run, AwsTestEndpoint.SecretKey);
        Directory.Delete(keys, recursive: true);
    }

    /// <summary>
    /// Push writes the provenance, the deploy reads it: both through the registry host. Push runs against a private
    /// engine that reaches ECR through the proxy (a small healthy image stands in for the built one, as
    /// image-build.json says). The production host is a fake instance whose host configuration names that engine
    /// (docker_host) and a docker config of its own with its ECR login (docker_config), with its own state root and
    /// port: the deploy pulls the attested digest there and serves it. An unattested release is then refused in one
    /// line before any command reaches the host, which keeps serving the attested one.
    /// </summary>
    [Fact]
    public async Task Push_attests_an_ECR_digest_that_DeployProduction_serves_on_a_host_reaching_ECR_and_an_unattested_one_leaves_the_host_untouched()
    {
        await using var engine = await PrivateDockerd.StartAsync("e2eecr", aws.Host.ClientEnvironment);
        var imageId = await TestImages.BuildAsync("e2e-ecr-push:1.2.4", "1.2.4", ImageBehaviour.Healthy, engine.Host);
        var artifacts = Directory.CreateDirectory(Path.Combine(Root, "artifacts")).FullName;
        await File.WriteAllTextAsync(Path.Combine(artifacts, "image-build.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            repository = "e2e-ecr-push", tags = new[] { "1.2.4" }, imageId, version = "1.2.4", commit = Clone.BaseCommit,
        }));

        var pushed = await BuildWithEcrAsync(AwsTestEndpoint.SecretKey, ["Push"], new Dictionary<string, string?> { ["DOCKER_HOST"] = engine.Host });

        BuildAssert.Succeeded(pushed);
        var digest = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(artifacts, "image.json"))).RootElement.GetProperty("digest").GetString()!;
        BuildAssert.HasLine(pushed, l => l.Contains($"provenance signed by key ", StringComparison.Ordinal) && l.EndsWith($"attached in {Registry}", StringComparison.Ordinal), "the provenance attached in ECR");
        Assert.Contains(aws.Host.Front.Received, r => r.StartsWith("PUT /v2/webapp/manifests/sha256:", StringComparison.Ordinal) && r.EndsWith(" 201", StringComparison.Ordinal));

        var dir = Directory.CreateTempSubdirectory("e2e-ecr-host-").FullName;
        var instance = aws.Endpoint.AddInstance($"i-0{Guid.NewGuid():N}"[..19]);
        var host = new Delivery.Hosts.HostSettings { StateRoot = Path.Combine(dir, "state"), AppName = $"e2ecr{instance.Id[^6..]}", DockerHost = engine.Host };
        try
        {
            // The host's standing ECR login, where its docker_config says (an ECR credential helper's job on EC2).
            using (var ecr = new EcrClient(new Delivery.Aws.AwsSettings
                   {
                       Region = aws.Endpoint.Region, EcrEndpoint = aws.Endpoint.Url,
                       Credentials = new Amazon.Runtime.BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey),
                   }))
            {
                var login = await ecr.GetAuthorizationTokenAsync();
                await HostConfigFiles.WriteDockerLoginAsync(Path.Combine(dir, "docker"), login.Registry, login.Username, login.Password);
            }
            var port = await HostConfigFiles.WriteProductionHostEnvAsync(Path.Combine(dir, "host.env"), host, Path.Combine(dir, "docker"));
            instance.Environment["WEBAPP_HOST_CONFIG"] = Path.Combine(dir, "host.env");
            var ssm = new Dictionary<string, string?>
            {
                ["AWS_ENDPOINT_URL_SSM"] = aws.Endpoint.Url.ToString(), ["AWS_REGION"] = aws.Endpoint.Region, ["AWS_EC2_METADATA_DISABLED"] = "true",
            };
            string[] promote = ["DeployProduction", "--production-targets", instance.Id, "--bake-seconds", "0", "--promote-version"];

            var run = await BuildWithEcrAsync(AwsTestEndpoint.SecretKey, [.. promote, "1.2.4"], ssm);

            BuildAssert.Succeeded(run);
            BuildAssert.HasLine(run, l => l.Contains($"production: 1.2.4 ({digest["sha256:".Length..][..12]}) has provenance: built from ", StringComparison.Ordinal)
                                          && l.Contains($" at {Clone.BaseCommit[..12]} by local:delivery-build, signed by key ", StringComparison.Ordinal), "the provenance check passed");
            Assert.Equal("1.2.4", await VersionAsync(port));
            var running = (await engine.DockerAsync("ps", "--quiet", "--filter", $"label=webapp.app={host.AppName}")).StandardOutput.Trim();
            var pulled = await engine.DockerAsync("image", "inspect", "--format", "{{.Id}}", $"{Registry}/webapp@{digest}");
            Assert.True(pulled.Succeeded, pulled.StandardError);
            Assert.Equal(pulled.StandardOutput.Trim(), (await engine.DockerAsync("inspect", "--format", "{{.Image}}", running)).StandardOutput.Trim());

            var unattested = await UploadReleaseAsync("1.2.5");
            var sent = aws.Endpoint.CommandTexts.Count;
            var refused = await BuildWithEcrAsync(AwsTestEndpoint.SecretKey, [.. promote, "1.2.5"], ssm);

            Assert.StartsWith($"Refusing {Registry}/webapp@{unattested}: no attestation", BuildAssert.TargetFailure(refused, "DeployProduction"));
            Assert.Equal(sent, aws.Endpoint.CommandTexts.Count);
            Assert.Equal("1.2.4", await VersionAsync(port));
            BuildAssert.DoesNotContain(pushed, EcrPassword);
            BuildAssert.DoesNotContain(run, EcrPassword);
            BuildAssert.DoesNotContain(refused, EcrPassword);
        }
        finally
        {
            try { await new Delivery.Hosts.Deployer(new Delivery.Hosts.LocalHost(), host).TeardownAllAsync(new Delivery.Hosts.DeployOptions { DeployedBy = "e2e", LockWait = TimeSpan.FromSeconds(30) }); }
            catch (DeliveryException) { }
            Directory.Delete(dir, recursive: true);
        }
    }

    static async Task<string> VersionAsync(int port)
    {
        var (status, body) = await Tools.Get($"http://127.0.0.1:{port}/version");
        return status == 200 ? body.Trim() : $"HTTP {status}";
    }

    [Fact]
    public async Task A_wrong_AWS_secret_fails_in_one_line_that_does_not_print_it()
    {
        const string wrongSecret = "wrong/secret+key-that-must-never-print";

        var run = await PromoteFromEcrAsync(wrongSecret, "--promote-version", "1.2.3");

        var message = BuildAssert.TargetFailure(run, "DeployProduction");
        Assert.StartsWith("ECR GetAuthorizationToken failed: ", message);
        Assert.DoesNotContain(run.OutputLines, l => l.StartsWith("Signed in to", StringComparison.Ordinal));
        BuildAssert.DoesNotContain(run, wrongSecret);
    }
}
