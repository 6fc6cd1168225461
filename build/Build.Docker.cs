using System.Text.Json;
using BuildGraph;
using Delivery.Core;
using Delivery.Docker;
using Delivery.Provisioning;
using Docker.DotNet.Models;
using Spectre.Console;

partial class Build
{
    const string DefaultBaseImage = "mcr.microsoft.com/dotnet/aspnet:10.0";
    const string OfflineBaseImage = "offline";

    [Parameter("Registry to push to (any v2 registry, e.g. <account>.dkr.ecr.<region>.amazonaws.com); the default is a local registry the build starts")]
    readonly string Registry = "127.0.0.1:5000";

    [Parameter("Repository name of the image inside the registry")]
    readonly string ImageName = "webapp";

    [Parameter("Registry user name (credentials in ~/.docker/config.json win when present)")]
    readonly string? RegistryUsername;

    [Parameter("Registry password"), Secret]
    readonly string? RegistryPassword;

    [Parameter("Base image of the app image; 'offline' builds one from this machine's .NET runtime")]
    readonly string BaseImage = DefaultBaseImage;

    [Parameter("Folder for local state: the local registry and the local deploy host")]
    readonly string StateDirectory = ".state";

    [Parameter("Fixed folder that Publish mirrors src/WebApp into and builds from: Razor writes the absolute path of each page into the dll, so it must be one path for every clone and machine (and the same for builds that should give one digest)")]
    readonly string CanonicalSourceDirectory = "/tmp/reproducible-build/webapp";

    AbsolutePath StatePath => Path.IsPathRooted(StateDirectory) ? new AbsolutePath(StateDirectory) : RootDirectory / StateDirectory;
    AbsolutePath BuiltImageFile => ArtifactsDirectory / "image-build.json";
    AbsolutePath ImageManifestFile => ArtifactsDirectory / "image.json";
    string ImageRepository => $"{Registry}/{ImageName}";
    bool UsesLocalRegistry => Registry is "127.0.0.1:5000" or "localhost:5000";

    DockerEngineClient? docker;
    DockerEngineClient Docker => docker ??= new DockerEngineClient();

    Target Prerequisites => _ => _
        .Description("Makes sure a Docker engine answers (and the local registry binary is there), through the provisioning plan")
        .Executes(async () =>
        {
            await Provision(UsesLocalRegistry ? [Requirement.Engine, Requirement.Registry] : [Requirement.Engine]);
            var engine = await Docker.VersionAsync(CancellationToken);
            ReportSummary($"Docker {engine.Version} (API {engine.APIVersion}, speaking {Docker.ApiVersion})");
        });

    Target BaseImageOffline => _ => _
        .Description("Creates a base image from this machine's .NET runtime (a reproducible tar loaded through the Engine API), for air-gapped builds")
        .DependsOn(Prerequisites)
        .Executes(async () =>
        {
            var result = await RuntimeBaseImage.EnsureAsync(Docker, new RuntimeBaseImageOptions(), Log.Information, CancellationToken);
            ReportSummary($"{result.Reference}, {result.Size / 1_000_000} MB{(result.Created ? $", {result.Elapsed.TotalSeconds:0.0} s" : ", existed")}");
        });

    Target DockerBuild => _ => _
        .Description("Assembles the image from artifacts/publish/WebApp (reproducible: one commit, one image id) and loads it through the Docker Engine API, tagged from the version")
        .DependsOn(Publish, Prerequisites)
        .Executes(async () =>
        {
            var v = await CurrentVersion;
            var tags = ImageTags.Compute(v.SemVer, v.ShortSha, v.IsRelease, v.BranchName);
            var built = await ReleaseImage.BuildAsync(Docker, new ReleaseImageSpec
            {
                Repository = ImageRepository,
                Tags = tags,
                Version = v.SemVer,
                Revision = v.Sha,
                Created = DateTimeOffset.Parse(await CommitTime(), System.Globalization.CultureInfo.InvariantCulture),
                BaseImage = await ResolveBaseImage(),
                AppDirectory = PublishDirectory,
                SbomPath = SbomFile,
                Source = await SourceUrl(),
                Title = "WebApp",
                Environment = new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = "8080", ["DOTNET_RUNNING_IN_CONTAINER"] = "true" },
                ExposedPorts = [8080],
            }, Log.Information, CancellationToken);
            var imageId = built.ImageId;
            var image = await Docker.InspectImageAsync(imageId, CancellationToken);
            Directory.CreateDirectory(ArtifactsDirectory);
            await File.WriteAllTextAsync(BuiltImageFile, JsonSerializer.Serialize(built, BuiltImage.Json));
            Log.Information($"Built {imageId[..19]} ({image?.Size / 1_000_000} MB) as {string.Join(", ", tags)}");
            ReportSummary($"{ImageName}:{tags[0]}, {image?.Size / 1_000_000} MB");
        });

    Target SmokeTest => _ => _
        .Description("Runs the built image on a free loopback port and checks /readyz, /, /metrics, /version and the non-root user")
        .DependsOn(DockerBuild)
        .Executes(async () =>
        {
            var built = await ReadBuiltImage();
            // A failure logs the container's last lines through the callback before it throws.
            var result = await Delivery.Docker.SmokeTest.RunAsync(Docker, new SmokeTestOptions { Image = built.ImageId, ExpectedVersion = built.Version },
                Log.Information, CancellationToken);
            ReportSummary($"ready in {result.TimeToReady.TotalSeconds:0.0} s, version {result.ReportedVersion}, uid {string.Join(",", result.ProcessUids.Distinct())}");
        });

    Target Push => _ => _
        .Description("Pushes every tag to --registry (starting the local one when it is the default), attaches signed provenance and the SBOM to the digest, and writes artifacts/image.json")
        .DependsOn(SmokeTest)
        .Executes(async () =>
        {
            var built = await ReadBuiltImage();
            if (UsesLocalRegistry)
                await new LocalRegistry(new LocalRegistryOptions { Address = Registry, StateDirectory = StatePath })
                    .EnsureRunningAsync(Log.Information, CancellationToken);

            var auth = await RegistryLogin();
            await EnsureEcrRepository();
            // The image may have been built for another --registry (e.g. DockerBuild ran without it): retagged, not rebuilt.
            var digest = await PushTagsShowingProgress(built, auth);
            var manifest = new ImageManifest(ImageRepository, built.Tags, digest, built.Version, built.Commit, DateTimeOffset.UtcNow, built.Sbom);
            await manifest.WriteAsync(ImageManifestFile, CancellationToken);
            Log.Information($"Pushed {manifest.Reference}");
            await AttestPushed(manifest, built);
            ReportSummary($"{digest[..19]}…, {built.Tags.Count} tags");
        });

    /// <summary>Publishes <paramref name="project"/> from its mirror at <see cref="CanonicalSourceDirectory"/> (see
    /// <see cref="CanonicalSource"/>), with the version properties and SOURCE_DATE_EPOCH (the mirror has no git history).</summary>
    async Task PublishFromCanonicalSource(AbsolutePath project, AbsolutePath output, string configuration)
    {
        using var source = await CanonicalSource.MirrorAsync(new CanonicalSourceOptions
        {
            SourceRoot = RootDirectory,
            Project = project,
            Root = Path.GetFullPath(CanonicalSourceDirectory),
        }, Log.Information, CancellationToken);
        Log.Information($"Building from {source.Root}: {source.Copied} files copied, {source.Deleted} deleted, {source.Unchanged} unchanged");
        var epoch = DateTimeOffset.Parse(await CommitTime(), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds();
        // Restores in the mirror (its own obj/), from the packages the clone's restore already brought.
        await DotNet(["publish", source.Project, "--configuration", configuration, "--output", output,
            $"-p:SOURCE_DATE_EPOCH={epoch}", .. MsBuildProperties()]);
    }

    async Task<string> ResolveBaseImage()
    {
        if (BaseImage == OfflineBaseImage)
            return (await RuntimeBaseImage.EnsureAsync(Docker, new RuntimeBaseImageOptions(), Log.Information, CancellationToken)).Reference;
        if (await Docker.InspectImageAsync(BaseImage, CancellationToken) is not null) return BaseImage;

        var (repository, tag) = ImageReference.SplitTag(BaseImage);
        try
        {
            await Docker.PullImageAsync(repository, tag, RegistryAuth.Resolve(ImageReference.RegistryOf(repository)), null, CancellationToken);
            return BaseImage;
        }
        catch (DeliveryException e) when (BaseImage == DefaultBaseImage)
        {
            Log.Warning($"Cannot pull the default base image {BaseImage} ({e.Message}); using the offline base built from this machine's .NET runtime instead");
            return (await RuntimeBaseImage.EnsureAsync(Docker, new RuntimeBaseImageOptions(), Log.Information, CancellationToken)).Reference;
        }
        catch (DeliveryException e)
        {
            throw new DeliveryException($"Base image {BaseImage} is missing and cannot be pulled: {e.Message}");
        }
    }

    async Task<BuiltImage> ReadBuiltImage()
    {
        if (!BuiltImageFile.FileExists)
            throw new DeliveryException($"{Path.GetRelativePath(RootDirectory, BuiltImageFile)} does not exist: run ./build.sh DockerBuild first");
        return JsonSerializer.Deserialize<BuiltImage>(await File.ReadAllTextAsync(BuiltImageFile), BuiltImage.Json)
               ?? throw new DeliveryException($"{BuiltImageFile} is empty");
    }

    async Task<string> CommitTime()
    {
        var result = await ProcessRunner.RunAsync("git", ["log", "-1", "--format=%cI"], new ProcessOptions { WorkingDirectory = RootDirectory });
        return result.Succeeded && result.StandardOutput.Trim() is { Length: > 0 } time ? time : "1970-01-01T00:00:00Z";
    }

    async Task<string> SourceUrl()
    {
        if (EnvironmentVariable("GITHUB_SERVER_URL") is { } server && EnvironmentVariable("GITHUB_REPOSITORY") is { } repository)
            return $"{server}/{repository}";
        var result = await ProcessRunner.RunAsync("git", ["remote", "get-url", "origin"], new ProcessOptions { WorkingDirectory = RootDirectory });
        // A remote URL may carry credentials (https://user:token@host/...); keep only scheme, host and path.
        return result.Succeeded && Uri.TryCreate(result.StandardOutput.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? $"{uri.Scheme}://{uri.Host}{uri.AbsolutePath}"
            : "";
    }

    /// <summary>Live bars on a terminal; in CI and redirected output, plain lines instead.</summary>
    bool ShowLiveProgress => IsLocalBuild && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Pushes every tag of <paramref name="built"/> to <see cref="ImageRepository"/>; returns the one digest.</summary>
    Task<string> PushTagsShowingProgress(BuiltImage built, RegistryAuth auth) => ShowLiveProgress
        ? AnsiConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new SpinnerColumn())
            .StartAsync(ctx => Docker.PushTagsAsync(built.ImageId, ImageRepository, built.Tags, auth, tag => new PushProgress(tag, ctx), CancellationToken))
        : Docker.PushTagsAsync(built.ImageId, ImageRepository, built.Tags, auth, tag => new PushProgress(tag, null), CancellationToken);

    /// <summary>Push progress: a bar per layer on a terminal, or one plain line per layer state change (readable in CI
    /// logs); either way a byte total at the end.</summary>
    sealed class PushProgress(string tag, ProgressContext? live) : IPushObserver
    {
        readonly Dictionary<string, (string Status, long Total)> layers = new();
        readonly Dictionary<string, ProgressTask> bars = new();

        public void Report(JSONMessage p)
        {
            if (p.ID is not { } layer || p.Status is null) return;
            var status = p.Status.StartsWith("Pushing", StringComparison.Ordinal) ? "Pushing" : p.Status;
            var total = p.Progress?.Total ?? (layers.TryGetValue(layer, out var known) ? known.Total : 0);
            if (live is not null) UpdateBar(live, layer, p.Progress?.Current, status, total);
            if (layers.TryGetValue(layer, out var previous) && previous.Status == status) { layers[layer] = (status, total); return; }
            layers[layer] = (status, total);
            if (status != "Pushing" && live is null) Log.Information($"  {tag}: layer {layer} {status}{(total > 0 ? $" ({total / 1024.0 / 1024.0:0.0} MiB)" : "")}");
        }

        void UpdateBar(ProgressContext live, string layer, long? current, string status, long total)
        {
            if (!bars.TryGetValue(layer, out var bar)) bars[layer] = bar = live.AddTask(layer, maxValue: 1);
            bar.Description = $"{tag} {layer} {status}";
            if (total > 0) bar.MaxValue = total;
            if (current is { } value) bar.Value = value;
            if (status is "Pushed" or "Layer already exists") { bar.Value = bar.MaxValue; bar.StopTask(); }
        }

        public void Complete()
        {
            var pushed = layers.Values.Where(l => l.Status == "Pushed").Sum(l => l.Total);
            var reused = layers.Values.Count(l => l.Status.Contains("exists", StringComparison.OrdinalIgnoreCase));
            Log.Information($"  {tag}: {layers.Count} layers, {reused} already in the registry, {pushed / 1024.0 / 1024.0:0.0} MiB pushed");
        }
    }
}
