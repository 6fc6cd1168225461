using Docker.DotNet.Models;
using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

/// <summary>Pushes and pulls through real docker-registry processes on free loopback ports.</summary>
[Collection(DockerRegistryCollection.Name)]
public sealed class RegistryTests(DockerFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    readonly List<LocalRegistry> registries = [];

    public Task InitializeAsync()
    {
        Assert.True(File.Exists("/usr/bin/docker-registry"), "These tests need /usr/bin/docker-registry (apt-get install -y docker-registry)");
        Assert.True(File.Exists("/usr/bin/htpasswd"), "These tests need htpasswd (apt-get install -y apache2-utils)");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var registry in registries) await registry.StopAsync();
    }

    async Task<LocalRegistry> StartRegistryAsync(string? username = null, string? password = null)
    {
        var registry = new LocalRegistry(new LocalRegistryOptions
        {
            Address = $"127.0.0.1:{TestSupport.Tools.FreePort()}",
            StateDirectory = fixture.NewTempDir("registry-state"),
            Username = username,
            Password = password,
        });
        registries.Add(registry);
        Assert.True(await registry.EnsureRunningAsync());
        return registry;
    }

    /// <summary>A one-file image whose layer is unique to this call, tagged into <paramref name="repository"/>.</summary>
    async Task CreateTinyImageAsync(string repository, string tag)
    {
        var archive = new RootFilesystemArchive();
        archive.AddText("/hello.txt", $"hello from {fixture.Prefix} {Guid.NewGuid()}\n");
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        fixture.Track($"{repository}:{tag}");
        await fixture.Docker.ImportImageAsync(tar, repository, tag, ["LABEL delivery.test=tiny"]);
    }

    [Fact]
    public async Task Push_to_an_anonymous_registry_returns_the_registrys_manifest_digest_and_pull_gets_it_back()
    {
        var registry = await StartRegistryAsync();
        var path = fixture.Name("tiny");
        var repository = $"{registry.Address}/{path}";
        await CreateTinyImageAsync(repository, "1.0.0");
        var progress = new List<JSONMessage>();

        var digest = await fixture.Docker.PushImageAsync(repository, "1.0.0", RegistryAuth.Anonymous, progress.Add);

        Assert.Matches("^sha256:[0-9a-f]{64}$", digest);
        using (var client = new RegistryClient(registry.Address))
            Assert.Equal(digest, await client.ResolveDigestAsync(path, "1.0.0"));
        Assert.Contains(progress, p => p.ID is not null && p.Status == "Pushed");
        Assert.Contains(progress, p => p.Status == "Pushing" && p.Progress?.Current > 0 && p.Progress?.Total > 0);

        // The same layers again under a second tag: nothing to upload.
        await fixture.TagAsync($"{repository}:1.0.0", repository, "main");
        fixture.Track($"{repository}:main");
        var again = new List<JSONMessage>();
        Assert.Equal(digest, await fixture.Docker.PushImageAsync(repository, "main", progress: again.Add));
        Assert.Contains(again, p => p.Status == "Layer already exists");

        Assert.True(await fixture.RemoveImageAsync($"{repository}:1.0.0"));
        Assert.True(await fixture.RemoveImageAsync($"{repository}:main"));
        Assert.Null(await fixture.Docker.InspectImageAsync($"{repository}:1.0.0"));

        var pulled = await fixture.Docker.PullImageAsync(repository, "1.0.0");
        Assert.Equal(digest, pulled);
        var image = await fixture.Docker.InspectImageAsync($"{repository}:1.0.0");
        Assert.Contains($"{repository}@{digest}", image!.RepoDigests!);
        Assert.Equal("tiny", image.Config!.Labels["delivery.test"]);
    }

    sealed class Observer(string tag, List<string> events) : IPushObserver
    {
        public void Report(JSONMessage message) { if (message.Status == "Pushed") events.Add($"{tag} pushed a layer"); }

        public void Complete() => events.Add($"{tag} complete");
    }

    [Fact]
    public async Task Pushing_every_tag_retags_an_image_built_for_another_repository_and_returns_the_one_digest()
    {
        var registry = await StartRegistryAsync();
        var path = fixture.Name("retag");
        var builtFor = $"127.0.0.1:1/{path}";
        await CreateTinyImageAsync(builtFor, "1.0.0");
        var imageId = (await fixture.Docker.InspectImageAsync($"{builtFor}:1.0.0"))!.ID;
        var repository = $"{registry.Address}/{path}";
        fixture.Track($"{repository}:1.0.0");
        fixture.Track($"{repository}:main");
        var events = new List<string>();

        var digest = await fixture.Docker.PushTagsAsync(imageId, repository, ["1.0.0", "main"], RegistryAuth.Anonymous, tag => new Observer(tag, events));

        using var client = new RegistryClient(registry.Address);
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "1.0.0"));
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "main"));
        Assert.Equal(["1.0.0 complete", "main complete"], events.Where(e => e.EndsWith("complete", StringComparison.Ordinal)));
        Assert.Contains("1.0.0 pushed a layer", events);
        Assert.DoesNotContain("main pushed a layer", events);
    }

    [Fact]
    public async Task Push_to_an_htpasswd_registry_works_with_the_password_and_says_unauthorized_without_it()
    {
        const string password = "s3cret-Pa55word!";
        var registry = await StartRegistryAsync("ci-user", password);
        var htpasswd = await File.ReadAllTextAsync(Path.Combine(registry.Directory, "htpasswd"));
        Assert.StartsWith("ci-user:$2y$", htpasswd);
        Assert.DoesNotContain(password, htpasswd);
        Assert.DoesNotContain(password, await File.ReadAllTextAsync(registry.ConfigFile));

        var path = fixture.Name("private");
        var repository = $"{registry.Address}/{path}";
        await CreateTinyImageAsync(repository, "1");

        var wrong = new RegistryAuth("ci-user", "not-the-password", registry.Address);
        var denied = await Assert.ThrowsAsync<DeliveryException>(() => fixture.Docker.PushImageAsync(repository, "1", wrong));
        Assert.Contains(registry.Address, denied.Message);
        output.WriteLine(denied.Message);
        Assert.Contains("unauthorized", denied.Message);
        Assert.DoesNotContain('\n', denied.Message);
        Assert.DoesNotContain("not-the-password", denied.Message);

        var anonymous = await Assert.ThrowsAsync<DeliveryException>(() => fixture.Docker.PushImageAsync(repository, "1"));
        output.WriteLine(anonymous.Message);
        Assert.Contains("unauthorized", anonymous.Message);

        var right = new RegistryAuth("ci-user", password, registry.Address);
        var digest = await fixture.Docker.PushImageAsync(repository, "1", right);
        using (var client = new RegistryClient(registry.Address, right))
            Assert.Equal(digest, await client.ResolveDigestAsync(path, "1"));
        using (var anonymousClient = new RegistryClient(registry.Address))
            await Assert.ThrowsAsync<DeliveryException>(() => anonymousClient.ResolveDigestAsync(path, "1"));
    }

    [Fact]
    public async Task Push_to_a_registry_that_is_down_names_it()
    {
        var address = $"127.0.0.1:{TestSupport.Tools.FreePort()}";
        var repository = $"{address}/{fixture.Name("nowhere")}";
        await CreateTinyImageAsync(repository, "1");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => fixture.Docker.PushImageAsync(repository, "1"));

        output.WriteLine(error.Message);
        Assert.StartsWith($"Registry {address} is not reachable", error.Message);
        Assert.Contains("connection refused", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Pulling_a_tag_the_registry_does_not_have_names_the_registry()
    {
        var registry = await StartRegistryAsync();
        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            fixture.Docker.PullImageAsync($"{registry.Address}/{fixture.Name("absent")}", "1"));

        Assert.Contains(registry.Address, error.Message);
        Assert.Contains("not found", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_registry_is_detached_idempotent_and_stoppable()
    {
        var registry = await StartRegistryAsync();
        var pid = int.Parse(await File.ReadAllTextAsync(registry.PidFile));
        Assert.Contains("docker-registry", await File.ReadAllTextAsync($"/proc/{pid}/cmdline"));
        // Its own session: killing the build's process group would not take it down.
        var stat = (await File.ReadAllTextAsync($"/proc/{pid}/stat")).Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(pid.ToString(), stat[3]); // session id == its pid

        Assert.False(await registry.EnsureRunningAsync());
        Assert.Equal(pid, int.Parse(await File.ReadAllTextAsync(registry.PidFile)));

        await registry.StopAsync();
        Assert.False(await registry.IsReachableAsync());
        Assert.False(File.Exists(registry.PidFile));
        Assert.False(TestSupport.ProcessState.Running(pid), "the registry still runs after StopAsync");
        await registry.StopAsync(); // nothing left to stop
    }

    [Fact]
    public async Task A_registry_that_cannot_bind_fails_with_its_log_line()
    {
        using var occupied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((System.Net.IPEndPoint)occupied.LocalEndpoint).Port;
        var registry = new LocalRegistry(new LocalRegistryOptions
        {
            Address = $"127.0.0.1:{port}",
            StateDirectory = fixture.NewTempDir("registry-busy"),
            StartTimeout = TimeSpan.FromSeconds(10),
        });
        registries.Add(registry);

        var error = await Assert.ThrowsAsync<DeliveryException>(() => registry.EnsureRunningAsync());

        Assert.Contains($"Registry at 127.0.0.1:{port} did not start", error.Message);
        Assert.Contains("address already in use", error.Message);
    }
}
