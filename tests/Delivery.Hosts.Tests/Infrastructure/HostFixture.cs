namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>The tests that deploy: one at a time within a collection, beside the other collections. Each test has a
/// bed of its own (state root, app name, proxy, ports), so what they share is the engine, the registry and the CPU.</summary>
[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host integration";
}

/// <summary>The tests that measure users' requests under load (wrk, the bake's latency and 5xx rules): one at a time,
/// so two of them never load the machine together.</summary>
[CollectionDefinition(Name)]
public sealed class HostLoadCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host integration under load";
}

/// <summary>The tests of what a host keeps between deploys (prune, teardown, restarts, maintenance, rollback targets).</summary>
[CollectionDefinition(Name)]
public sealed class HostStateCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host integration of kept state";
}

/// <summary>One registry and one set of pushed test images for the whole run, whichever collection asks first; the
/// last collection to finish removes them. Each collection deploys them from a repository of its own (the same
/// manifests, copied in the registry): a prune or teardown removes a release's image by its reference, and with one
/// repository for all, a prune in one collection removed an image another collection had pulled and was deploying.
/// With a reference of its own per collection, docker only untags it while another collection's reference remains.</summary>
public sealed class HostFixture : TestReleases, IAsyncLifetime
{
    HostImages images = null!;

    public string RunId => images.RunId;
    public TestRegistry Registry => images.Registry;
    /// <summary>This collection's repository: <c>hdt&lt;run&gt;/c&lt;n&gt;-webapp</c>.</summary>
    public string Repository { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        images = await HostImages.AcquireAsync();
        var repository = $"hdt{RunId}/c{images.NextCollection()}-webapp";
        Repository = $"{Registry.Address}/{repository}";
        await FillAsync(images, async image =>
            image with { Repository = Repository, Digest = await Registry.CopyAsync(images.Repository, image.Digest, repository, image.Version) });
    }

    /// <summary>A bed numbered across all collections, so no two share an app name or private port range.</summary>
    public HostTestBed NewBed(string? dockerHost = null) => new(this, images.NextBed(), dockerHost);

    public Task DisposeAsync() => HostImages.ReleaseAsync();
}

sealed class HostImages : TestReleases
{
    static readonly SemaphoreSlim Gate = new(1, 1);
    static Task<HostImages>? shared;
    static int users;

    public string RunId { get; } = Tools.NewRunId();
    public TestRegistry Registry { get; private set; } = null!;
    int beds, collections;

    /// <summary>The repository the images are built into; collections deploy from copies (<see cref="HostFixture"/>).</summary>
    public string Repository => $"hdt{RunId}/webapp";

    public int NextBed() => Interlocked.Increment(ref beds);

    public int NextCollection() => Interlocked.Increment(ref collections);

    public static async Task<HostImages> AcquireAsync()
    {
        await Gate.WaitAsync();
        try
        {
            users++;
            shared ??= StartAsync();
        }
        finally { Gate.Release(); }
        return await shared;
    }

    public static async Task ReleaseAsync()
    {
        Task<HostImages>? last = null;
        await Gate.WaitAsync();
        try
        {
            if (--users == 0) (last, shared) = (shared, null);
        }
        finally { Gate.Release(); }
        if (last is { IsCompletedSuccessfully: true }) await (await last).DisposeAsync();
    }

    static async Task<HostImages> StartAsync()
    {
        var images = new HostImages();
        await images.InitializeAsync();
        return images;
    }

    async Task InitializeAsync()
    {
        Tools.Require("docker", "docker.io");
        Registry = await TestRegistry.StartAsync();
        var repo = Repository;
        // One after another: each push is small, and several at once only compete for the engine.
        await BuildAsync((version, behaviour) => TestImages.BuildAndPushAsync(Registry.Address, repo, version, behaviour));
    }

    async Task DisposeAsync()
    {
        // Images the beds pulled by digest: remove whatever is left of this run's repository.
        var docker = Tools.Require("docker", "docker.io");
        var ids = await Tools.Run(docker, "images", "--quiet", "--filter", $"reference={Registry.Address}/hdt{RunId}/*");
        foreach (var id in ids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct())
            await Tools.Run(docker, "image", "rm", "--force", id.Trim());
        await Registry.DisposeAsync();
    }
}

/// <summary>The twelve test releases the host tests deploy, each a version with its behaviour; built once
/// (<see cref="BuildAsync"/>), then copied per collection (<see cref="FillAsync"/>).</summary>
public abstract class TestReleases
{
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

    IEnumerable<(string Version, ImageBehaviour Behaviour, Action<PinnedImage> Set, Func<PinnedImage> Get)> All() =>
    [
        ("1.0.0", ImageBehaviour.Healthy, i => V1 = i, () => V1),
        ("2.0.0", ImageBehaviour.Healthy, i => V2 = i, () => V2),
        ("3.0.0", ImageBehaviour.Healthy, i => V3 = i, () => V3),
        ("4.0.0", ImageBehaviour.Healthy, i => V4 = i, () => V4),
        ("5.0.0-never-ready", ImageBehaviour.NeverReady, i => NeverReady = i, () => NeverReady),
        ("6.0.0-exits", ImageBehaviour.ExitsAtStart, i => ExitsAtStart = i, () => ExitsAtStart),
        ("7.0.0-root", ImageBehaviour.RunsAsRoot, i => RunsAsRoot = i, () => RunsAsRoot),
        ("8.0.0-metered", ImageBehaviour.Metered, i => Metered1 = i, () => Metered1),
        ("8.1.0-metered", ImageBehaviour.Metered, i => Metered2 = i, () => Metered2),
        ("9.0.0-5xx", ImageBehaviour.Serves5xx, i => Serves5xx = i, () => Serves5xx),
        ("10.0.0-slow", ImageBehaviour.TenTimesSlower, i => TenTimesSlower = i, () => TenTimesSlower),
        ("11.0.0-2x", ImageBehaviour.TwiceAsSlow, i => TwiceAsSlow = i, () => TwiceAsSlow),
    ];

    protected async Task BuildAsync(Func<string, ImageBehaviour, Task<PinnedImage>> build)
    {
        foreach (var (version, behaviour, set, _) in All()) set(await build(version, behaviour));
    }

    /// <summary>Each release of <paramref name="from"/>, mapped.</summary>
    protected async Task FillAsync(TestReleases from, Func<PinnedImage, Task<PinnedImage>> map)
    {
        var source = from.All().Select(r => r.Get()).ToList();
        foreach (var ((_, _, set, _), image) in All().Zip(source)) set(await map(image));
    }
}
