using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Aws.TestEndpoint;
using Delivery.Aws;
using Delivery.Docker;

namespace Delivery.Docker.Tests.Integration.Ecr;

/// <summary>The AWS test endpoint with its ECR images in a real docker-registry on a free loopback port.</summary>
public sealed class EcrBackedFixture : IAsyncLifetime
{
    public AwsTestEndpoint Endpoint { get; private set; } = null!;
    public LocalRegistry Registry { get; private set; } = null!;
    readonly string state = Directory.CreateTempSubdirectory("ecr-backing-").FullName;

    public AwsSettings Settings() => new()
    {
        Region = Endpoint.Region,
        Credentials = new Amazon.Runtime.BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey),
        EcrEndpoint = Endpoint.Url,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
    };

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists("/usr/bin/docker-registry"), "These tests need /usr/bin/docker-registry (apt-get install -y docker-registry)");
        var port = TestSupport.Tools.FreePort();
        Registry = new LocalRegistry(new LocalRegistryOptions { Address = $"127.0.0.1:{port}", StateDirectory = state });
        await Registry.EnsureRunningAsync();
        Endpoint = await AwsTestEndpoint.StartAsync();
        Endpoint.Ecr.BackingRegistry = Registry.Address;
    }

    public async Task DisposeAsync()
    {
        await Endpoint.DisposeAsync();
        await Registry.StopAsync();
        Directory.Delete(state, recursive: true);
    }

    /// <summary>Uploads a config and a layer blob and a schema 2 manifest naming them, as a push would; returns the
    /// manifest's digest.</summary>
    public async Task<string> UploadImageAsync(string repository, string tag)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{Registry.Address}") };
        var layer = Encoding.UTF8.GetBytes($"layer {Guid.NewGuid()}");
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":{{config.Length}},"digest":"{{Digest(config)}}"},
             "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{{layer.Length}},"digest":"{{Digest(layer)}}"}]}
            """);
        foreach (var blob in new[] { layer, config })
        {
            using var start = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            var location = start.Headers.Location!.ToString();
            var url = location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(Digest(blob));
            using var put = await http.PutAsync(url, new ByteArrayContent(blob));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.docker.distribution.manifest.v2+json");
        using var stored = await http.PutAsync($"/v2/{repository}/manifests/{tag}", content);
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        return Digest(manifest);
    }

    static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>
/// ECR repositories and promotion tags through the hand-written client, against the test endpoint whose images live
/// in a real registry: PutImage really retags there, and the digest stays the same.
/// </summary>
public sealed class EcrImageTests(EcrBackedFixture fixture) : IClassFixture<EcrBackedFixture>
{
    const string Account = AwsTestEndpoint.Account;

    static string NewName(string what) => $"{what}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task A_missing_repository_is_created_once_with_scan_on_push()
    {
        using var ecr = new EcrClient(fixture.Settings());
        var name = NewName("webapp");
        var before = fixture.Endpoint.Received.Count;

        var (created, wasCreated) = await ecr.EnsureRepositoryAsync(Account, name, immutableTags: false);
        var (existing, createdAgain) = await ecr.EnsureRepositoryAsync(Account, name, immutableTags: false);

        Assert.True(wasCreated);
        Assert.False(createdAgain);
        Assert.Equal($"{Account}.dkr.ecr.eu-west-1.amazonaws.com/{name}", created.Uri);
        Assert.True(created.ScanOnPush);
        Assert.False(created.ImmutableTags);
        Assert.Equal(created, existing);
        Assert.True(fixture.Endpoint.Ecr.ScansOnPush(name));
        Assert.Equal(
            ["DescribeRepositories", "CreateRepository", "DescribeRepositories"],
            fixture.Endpoint.Received.Skip(before).Select(r => r[(r.IndexOf('.') + 1)..]));
    }

    [Fact]
    public async Task Immutable_tags_are_a_parameter_and_an_immutable_production_tag_cannot_move()
    {
        using var ecr = new EcrClient(fixture.Settings());
        var name = NewName("immutable");
        var (repository, _) = await ecr.EnsureRepositoryAsync(Account, name, immutableTags: true);
        Assert.True(repository.ImmutableTags);
        Assert.True(fixture.Endpoint.Ecr.IsImmutable(name));

        var first = await fixture.UploadImageAsync(name, "1.0.0");
        var second = await fixture.UploadImageAsync(name, "1.1.0");
        await ecr.PutImageAsync(Account, await ecr.BatchGetImageAsync(Account, name, first), "production");
        await ecr.PutImageAsync(Account, await ecr.BatchGetImageAsync(Account, name, first), "production"); // same image: fine

        var error = await Assert.ThrowsAsync<AwsException>(async () =>
            await ecr.PutImageAsync(Account, await ecr.BatchGetImageAsync(Account, name, second), "production"));
        Assert.Equal($"ECR PutImage failed: ImageTagAlreadyExistsException: The image tag 'production' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable.", error.Message);
    }

    [Fact]
    public async Task Promotion_tags_the_same_manifest_through_BatchGetImage_and_PutImage_and_the_digest_is_unchanged()
    {
        using var ecr = new EcrClient(fixture.Settings());
        var name = NewName("promote");
        await ecr.EnsureRepositoryAsync(Account, name, immutableTags: false);
        var digest = await fixture.UploadImageAsync(name, "1.2.3");
        using var registry = new RegistryClient(fixture.Registry.Address);
        var before = await registry.GetManifestAsync(name, "1.2.3");

        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", (await ecr.BatchGetImageAsync(Account, name, digest)).MediaType);
        await ecr.TagAsync(Account, name, digest, ImageTags.Promotion("1.2.3"));

        Assert.Equal(digest, await registry.ResolveDigestAsync(name, "production"));
        Assert.Equal(digest, await registry.ResolveDigestAsync(name, "release-1.2.3"));
        Assert.Equal(before.Content, (await registry.GetManifestAsync(name, "production")).Content);

        // A later release moves production; the earlier release tag stays.
        var next = await fixture.UploadImageAsync(name, "1.2.4");
        await ecr.PutImageAsync(Account, await ecr.BatchGetImageAsync(Account, name, next), "production");
        Assert.Equal(next, await registry.ResolveDigestAsync(name, "production"));
        Assert.Equal(digest, await registry.ResolveDigestAsync(name, "release-1.2.3"));
    }

    [Fact]
    public async Task A_digest_the_repository_does_not_have_is_a_one_line_error()
    {
        using var ecr = new EcrClient(fixture.Settings());
        var name = NewName("absent");
        await ecr.EnsureRepositoryAsync(Account, name, immutableTags: false);
        var digest = "sha256:" + new string('0', 64);

        var error = await Assert.ThrowsAsync<AwsException>(() => ecr.BatchGetImageAsync(Account, name, digest));

        Assert.Equal($"ECR BatchGetImage failed: ImageNotFound: {name}@{digest}: ImageNotFound: Requested image not found", error.Message);
    }

    [Fact]
    public async Task A_repository_in_another_account_is_refused_and_nothing_is_created()
    {
        using var ecr = new EcrClient(fixture.Settings());
        var name = NewName("foreign");
        var repositories = fixture.Endpoint.Ecr.RepositoryNames.Count;

        var error = await Assert.ThrowsAsync<AwsException>(() => ecr.EnsureRepositoryAsync("999999999999", name, immutableTags: false));

        Assert.Equal("ECR DescribeRepositories failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/delivery-test is not authorized " +
                     $"to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:eu-west-1:999999999999:repository/{name} because no " +
                     "resource-based policy allows the ecr:DescribeRepositories action", error.Message);
        Assert.Equal(repositories, fixture.Endpoint.Ecr.RepositoryNames.Count);
    }

    /// <summary>The official AWS CLI (awscli) parses the endpoint's ECR answers and signs its requests so the endpoint
    /// accepts them: the endpoint speaks ECR, not just what our client expects.</summary>
    [Fact]
    public async Task The_AWS_CLI_accepts_the_ECR_answers_and_really_tags_through_PutImage()
    {
        var aws = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "aws")).FirstOrDefault(File.Exists);
        Assert.True(aws is not null, "This test needs the AWS CLI (apt-get install -y awscli)");
        var name = NewName("cli");
        var environment = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = AwsTestEndpoint.SecretKey,
            ["AWS_SESSION_TOKEN"] = null, ["AWS_PROFILE"] = null, ["AWS_DEFAULT_REGION"] = "eu-west-1",
            ["AWS_CONFIG_FILE"] = "/dev/null", ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null", ["AWS_PAGER"] = "",
        };
        async Task<System.Text.Json.JsonElement> Cli(params string[] arguments)
        {
            var result = await Delivery.Core.ProcessRunner.RunAsync(aws!, ["ecr", .. arguments, "--endpoint-url", fixture.Endpoint.Url.ToString(), "--output", "json"],
                new Delivery.Core.ProcessOptions { Environment = environment });
            Assert.True(result.Succeeded, $"aws ecr {arguments[0]}: {result.StandardError}");
            return System.Text.Json.JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
        }

        var created = await Cli("create-repository", "--repository-name", name, "--image-scanning-configuration", "scanOnPush=true");
        Assert.Equal(name, created.GetProperty("repository").GetProperty("repositoryName").GetString());
        var described = await Cli("describe-repositories", "--repository-names", name);
        Assert.True(described.GetProperty("repositories")[0].GetProperty("imageScanningConfiguration").GetProperty("scanOnPush").GetBoolean());

        var digest = await fixture.UploadImageAsync(name, "2.0.0");
        var images = await Cli("batch-get-image", "--repository-name", name, "--image-ids", $"imageDigest={digest}");
        var manifest = images.GetProperty("images")[0].GetProperty("imageManifest").GetString()!;
        await Cli("put-image", "--repository-name", name, "--image-tag", "production", "--image-manifest", manifest);

        using var registry = new RegistryClient(fixture.Registry.Address);
        Assert.Equal(digest, await registry.ResolveDigestAsync(name, "production"));
    }
}
