namespace Delivery.Hosts.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    /// <summary>Every test that touches dockerd, haproxy and the registry runs in this one collection, one at a time,
    /// so load tests measure the deploy, not a neighbour.</summary>
    public const string Name = "host integration";
}

/// <summary>One registry and one set of pushed test images for the whole run.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    public string RunId { get; } = Tools.NewRunId();
    public TestRegistry Registry { get; private set; } = null!;
    public PinnedImage V1 { get; private set; } = null!;
    public PinnedImage V2 { get; private set; } = null!;
    public PinnedImage V3 { get; private set; } = null!;
    public PinnedImage V4 { get; private set; } = null!;
    public PinnedImage NeverReady { get; private set; } = null!;
    public PinnedImage ExitsAtStart { get; private set; } = null!;
    public PinnedImage RunsAsRoot { get; private set; } = null!;
    public PinnedImage Metered1 { get; private set; } = null!;
    public PinnedImage Metered2 { get; private set; } = null!;
    public PinnedImage Serves5xx { get; private set; } = null!;
    public PinnedImage TenTimesSlower { get; private set; } = null!;
    public PinnedImage TwiceAsSlow { get; private set; } = null!;
    public string Repository => $"{Registry.Address}/hdt{RunId}/webapp";
    int _beds;

    public async Task InitializeAsync()
    {
        Tools.Require("docker", "docker.io");
        Registry = await TestRegistry.StartAsync();
        var repo = $"hdt{RunId}/webapp";
        V1 = await TestImages.BuildAndPushAsync(Registry.Address, repo, "1.0.0", ImageBehaviour.Healthy);
        V2 = await TestImages.BuildAndPushAsync(Registry.Address, repo, "2.0.0", ImageBehaviour.Healthy);
        V3 = await TestImages.BuildAndPushAsync(Registry.Address, repo, "3.0.0", ImageBehaviour.Healthy);
        V4 = await TestImages.BuildAndPushAsync(Registry.Address, repo, "4.0.0", ImageBehaviour.Healthy);
        NeverReady = await TestImages.BuildAndPushAsync(Registry.Address, repo, "5.0.0-never-ready", ImageBehaviour.NeverReady);
        ExitsAtStart = await TestImages.BuildAndPushAsync(Registry.Address, repo, "6.0.0-exits", ImageBehaviour.ExitsAtStart);
        RunsAsRoot = await TestImages.BuildAndPushAsync(Registry.Address, repo, "7.0.0-root", ImageBehaviour.RunsAsRoot);
        Metered1 = await TestImages.BuildAndPushAsync(Registry.Address, repo, "8.0.0-metered", ImageBehaviour.Metered);
        Metered2 = await TestImages.BuildAndPushAsync(Registry.Address, repo, "8.1.0-metered", ImageBehaviour.Metered);
        Serves5xx = await TestImages.BuildAndPushAsync(Registry.Address, repo, "9.0.0-5xx", ImageBehaviour.Serves5xx);
        TenTimesSlower = await TestImages.BuildAndPushAsync(Registry.Address, repo, "10.0.0-slow", ImageBehaviour.TenTimesSlower);
        TwiceAsSlow = await TestImages.BuildAndPushAsync(Registry.Address, repo, "11.0.0-2x", ImageBehaviour.TwiceAsSlow);
    }

    public HostTestBed NewBed(string? dockerHost = null) => new(this, Interlocked.Increment(ref _beds), dockerHost);

    public async Task DisposeAsync()
    {
        // Images the beds pulled by digest: remove whatever is left of this run's repository.
        var docker = Tools.Require("docker", "docker.io");
        var ids = await Tools.Run(docker, "images", "--quiet", "--filter", $"reference={Registry.Address}/hdt{RunId}/*");
        foreach (var id in ids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct())
            await Tools.Run(docker, "image", "rm", "--force", id.Trim());
        await Registry.DisposeAsync();
    }
}
