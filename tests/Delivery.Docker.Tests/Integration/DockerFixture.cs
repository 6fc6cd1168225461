using Docker.DotNet;
using Docker.DotNet.Models;
using System.Collections.Concurrent;
using Delivery.Core;

namespace Delivery.Docker.Tests.Integration;

/// <summary>The tests that use the images built from the app (the offline base, the published app): built once here.</summary>
[CollectionDefinition(Name)]
public sealed class DockerCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker engine";
}

/// <summary>The reproducibility tests (two publishes and image builds each, minutes of work) beside the other tests
/// of the app's images; the offline base and the published fixture app are the same ones (<see cref="SharedAppBuilds"/>).</summary>
[CollectionDefinition(Name)]
public sealed class DockerReproducibleCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker engine, reproducible images";
}

/// <summary>The engine and registry tests that need none of the app's images, beside <see cref="DockerCollection"/>
/// (a fixture of their own: another prefix, another temp dir).</summary>
[CollectionDefinition(Name)]
public sealed class DockerRegistryCollection : ICollectionFixture<DockerFixture>
{
    public const string Name = "docker engine and registries";
}

/// <summary>
/// The real engine, shared by the integration tests: a per-run name prefix, a temp dir, images built once
/// (a busybox shell image, the offline base, a published fixture app and its image), and cleanup of everything
/// carrying the prefix.
/// </summary>
public sealed class DockerFixture : IAsyncLifetime
{
    public const string AppVersion = "1.2.3-test.1";
    public const string RunLabel = "delivery.test.run";

    public DockerEngineClient Docker { get; } = new();
    /// <summary>Docker.DotNet itself, at the API version negotiated with the engine.</summary>
    public IDockerClient Api { get; private set; } = null!;
    public string Prefix { get; } = "ddt-" + Guid.NewGuid().ToString("N")[..8];
    public string TempRoot { get; }

    readonly ConcurrentBag<string> images = [];
    readonly Lazy<Task<string>> shellImage, appImage, crashingImage;
    readonly SharedAppBuilds shared = SharedAppBuilds.Acquire();

    public RuntimeBaseImageResult? BaseImageResult => shared.BaseImageResult;
    public IReadOnlyList<string> BaseImageLog => shared.BaseImageLog;
    /// <summary>The repository of <see cref="BaseImageAsync"/>: one per test run, not per fixture.</summary>
    public string BaseImageRepository => shared.BaseImageRepository;

    public DockerFixture()
    {
        TempRoot = Path.Combine(Path.GetTempPath(), Prefix);
        Directory.CreateDirectory(TempRoot);
        // Each is made once; a failure is kept, so every test that needs it reports the same cause.
        shellImage = new(CreateShellImageAsync);
        appImage = new(CreateAppImageAsync);
        crashingImage = new(CreateCrashingAppImageAsync);
    }

    public IReadOnlyDictionary<string, string> Labels => new Dictionary<string, string> { [RunLabel] = Prefix };

    public async Task InitializeAsync()
    {
        if (!await Docker.TryPingAsync(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException(
                $"These tests need a running Docker Engine at {Docker.Endpoint} (install docker.io and start dockerd).");
        Api = await Docker.ConnectAsync();
    }

    public Task TagAsync(string image, string repository, string tag) =>
        Api.Images.TagImageAsync(image, new ImageTagParameters { RepositoryName = repository, Tag = tag });

    /// <summary>False when there was no such image.</summary>
    public async Task<bool> RemoveImageAsync(string image)
    {
        try { await Api.Images.DeleteImageAsync(image, new ImageDeleteParameters()); return true; }
        catch (DockerImageNotFoundException) { return false; }
    }

    public Task<IList<ContainerListResponse>> ListOwnContainersAsync() =>
        Api.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RunLabel}={Prefix}"] = true } },
        });

    public async Task DisposeAsync()
    {
        foreach (var container in await ListOwnContainersAsync())
            await Api.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        await RemoveImagesAsync(Api, Docker, Prefix, images);
        Docker.Dispose();
        try { Directory.Delete(TempRoot, recursive: true); } catch (IOException) { }
        await SharedAppBuilds.ReleaseAsync();
    }

    /// <summary>
    /// Removes every image tagged with the prefix, plus the untagged images built on top of them (layers left by
    /// failed builds), children first. An image that also carries a tag of another prefix (the same image id built
    /// again under this run's name, as the reproducibility tests do with the shared base) only loses this prefix's tags.
    /// Nothing else on the shared engine is touched.
    /// </summary>
    internal static async Task RemoveImagesAsync(IDockerClient api, DockerEngineClient docker, string prefix, IEnumerable<string> tracked)
    {
        var all = await api.Images.ListImagesAsync(new ImagesListParameters { All = true });
        bool Others(ImagesListResponse i) => (i.RepoTags ?? []).Any(t => !t.Contains(prefix, StringComparison.Ordinal) && t != "<none>:<none>");
        foreach (var image in all.Where(i => Others(i)))
            foreach (var tag in (image.RepoTags ?? []).Where(t => t.Contains(prefix, StringComparison.Ordinal)))
                try { await api.Images.DeleteImageAsync(tag, new ImageDeleteParameters()); } catch (DockerApiException) { }
        all = all.Where(i => !Others(i)).ToList();
        var own = all.Where(i => (i.RepoTags ?? []).Any(t => t.Contains(prefix, StringComparison.Ordinal))).Select(i => i.ID).ToHashSet();
        foreach (var reference in tracked)
            if (await docker.InspectImageAsync(reference) is { } image && all.Any(i => i.ID == image.ID)) own.Add(image.ID);
        bool grew;
        do
        {
            grew = false;
            foreach (var image in all)
                if (image.ParentID is { Length: > 0 } parent && own.Contains(parent) && !(image.RepoTags ?? []).Any(t => !t.Contains(prefix, StringComparison.Ordinal) && t != "<none>:<none>"))
                    grew |= own.Add(image.ID);
        } while (grew);

        var remaining = own.ToHashSet();
        while (remaining.Count > 0)
        {
            var parents = all.Where(i => remaining.Contains(i.ID) && !string.IsNullOrEmpty(i.ParentID)).Select(i => i.ParentID).ToHashSet();
            var leaves = remaining.Where(id => !parents.Contains(id)).ToList();
            if (leaves.Count == 0) leaves = remaining.ToList();
            foreach (var id in leaves)
            {
                try { await api.Images.DeleteImageAsync(id, new ImageDeleteParameters { Force = true }); } catch (DockerApiException) { }
                remaining.Remove(id);
            }
        }
    }

    public string Name(string what) => $"{Prefix}-{what}";

    public void Track(string image) => images.Add(image);

    public string NewTempDir(string name)
    {
        var dir = Path.Combine(TempRoot, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>An image with only a static busybox as /bin/sh and a few applets, for RUN steps and shell containers.</summary>
    public Task<string> ShellImageAsync() => shellImage.Value;

    async Task<string> CreateShellImageAsync()
    {
        var reference = Name("shell") + ":1";
        var archive = new RootFilesystemArchive();
        archive.AddHostFileAs("/usr/bin/busybox", "/bin/busybox", (UnixFileMode)0b111_101_101);
        foreach (var applet in new[] { "sh", "ls", "cat", "sleep", "echo", "id", "test", "true", "false" })
            archive.AddSymlink($"/bin/{applet}", "busybox");
        archive.AddDirectory("/tmp", (UnixFileMode)0b1_111_111_111);
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        await Docker.ImportImageAsync(tar, Name("shell"), "1", ["ENV PATH=/bin"]);
        Track(reference);
        return reference;
    }

    /// <summary>The offline ASP.NET Core base image from this machine's runtime, under the run's own name.</summary>
    public Task<string> BaseImageAsync() => shared.BaseImageAsync();

    /// <summary>A tiny web app with /, /readyz, /metrics and /version, published (framework-dependent) as WebApp.dll.</summary>
    public Task<string> PublishedAppAsync() => shared.PublishedAppAsync();

    /// <summary>The app image as the build assembles it (<see cref="AppImage"/>), on the offline base, from the fixture app.</summary>
    public Task<string> AppImageAsync() => appImage.Value;

    public static readonly DateTimeOffset CommitTime = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public AppImageSpec AppSpec(string baseImage, string appDirectory, params string[] tags) => new()
    {
        BaseImage = baseImage,
        AppDirectory = appDirectory,
        Created = CommitTime,
        Environment = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "8080", ["DOTNET_RUNNING_IN_CONTAINER"] = "true" },
        ExposedPorts = [8080],
        Labels = new Dictionary<string, string>
        {
            ["org.opencontainers.image.version"] = AppVersion, ["org.opencontainers.image.revision"] = "0123456789abcdef",
            ["org.opencontainers.image.created"] = ImageLayout.Time(CommitTime), ["org.opencontainers.image.source"] = "https://example.invalid/webapp",
            ["org.opencontainers.image.title"] = "WebApp", [RunLabel] = Prefix,
        },
        Tags = tags,
    };

    async Task<string> CreateAppImageAsync()
    {
        var reference = Name("app") + ":" + AppVersion;
        await AppImage.BuildAsync(Docker, AppSpec(await BaseImageAsync(), await PublishedAppAsync(), reference));
        Track(reference);
        return reference;
    }

    /// <summary>The app image, told to exit at startup.</summary>
    public Task<string> CrashingAppImageAsync() => crashingImage.Value;

    async Task<string> CreateCrashingAppImageAsync()
    {
        var app = await AppImageAsync();
        var dir = NewTempDir("crashing");
        await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile"), $"FROM {app}\nENV FIXTURE_CRASH=configuration-missing\n");
        var reference = Name("crashing") + ":1";
        using var context = BuildContext.FromDirectory(dir);
        await Docker.BuildImageAsync(context, new ImageBuildParameters { Tags = [reference], Labels = Labels.ToDictionary() });
        Track(reference);
        return reference;
    }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "WebApp.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (WebApp.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a command in a fresh container of <paramref name="image"/>, waits for it, returns exit code and output.</summary>
    public async Task<(int ExitCode, IReadOnlyList<ContainerLogLine> Output)> RunToCompletionAsync(string image, params string[] command)
    {
        var id = (await Api.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image, Cmd = command, Labels = Labels.ToDictionary(), Name = Name("run-" + Guid.NewGuid().ToString("N")[..6]),
        })).ID;
        try
        {
            await Api.Containers.StartContainerAsync(id, null);
            var exit = await Api.Containers.WaitContainerAsync(id);
            return ((int)exit.StatusCode, await Docker.GetContainerLogsAsync(id, 200));
        }
        finally
        {
            await Api.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters());
        }
    }

}
