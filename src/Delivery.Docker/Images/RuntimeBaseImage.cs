using System.Diagnostics;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Docker;

public sealed record RuntimeBaseImageOptions
{
    public string Repository { get; init; } = "webapp-base";
    /// <summary>Where this machine's .NET lives (dotnet, host/, shared/).</summary>
    public string DotnetRoot { get; init; } = "/usr/share/dotnet";
    /// <summary>The ASP.NET Core runtime version to copy; null picks the newest one installed.</summary>
    public string? RuntimeVersion { get; init; }
    public int AppUid { get; init; } = 10001;
    public int AppGid { get; init; } = 10001;
    public string AppUserName { get; init; } = "app";
    /// <summary>Rebuild even when the tag exists.</summary>
    public bool Force { get; init; }
}

public sealed record RuntimeBaseImageResult(string Reference, string ImageId, long Size, string RuntimeVersion, bool Created, TimeSpan Elapsed);

/// <summary>
/// An ASP.NET Core runtime base image made from this machine's own .NET install, for builds without access to
/// mcr.microsoft.com: the dotnet host, the NETCore and AspNetCore shared frameworks, the native libraries they link
/// or dlopen (OpenSSL 3, ICU), the dynamic loader, the CA bundle, a minimal passwd/group with the app user, and /tmp.
/// There is no shell in it, so Dockerfiles built on it must not use RUN.
/// </summary>
public static partial class RuntimeBaseImage
{
    public const string SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>"webapp-base:10.0.12-offline" for the given options (detecting the runtime version when not set).</summary>
    public static string ReferenceFor(RuntimeBaseImageOptions options) =>
        $"{options.Repository}:{options.RuntimeVersion ?? DetectRuntimeVersion(options.DotnetRoot)}-offline";

    /// <summary>Creates the image unless a tag for it already exists (or <see cref="RuntimeBaseImageOptions.Force"/>).</summary>
    public static async Task<RuntimeBaseImageResult> EnsureAsync(
        DockerEngineClient docker, RuntimeBaseImageOptions? options = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        options ??= new RuntimeBaseImageOptions();
        var version = options.RuntimeVersion ?? DetectRuntimeVersion(options.DotnetRoot);
        var tag = $"{version}-offline";
        var reference = $"{options.Repository}:{tag}";
        var watch = Stopwatch.StartNew();

        if (!options.Force && await docker.InspectImageAsync(reference, cancellationToken) is { } existing)
        {
            log?.Invoke($"Base image {reference} exists ({existing.ID[..Math.Min(19, existing.ID.Length)]}); not rebuilding");
            return new RuntimeBaseImageResult(reference, existing.ID, existing.Size, version, Created: false, watch.Elapsed);
        }

        var archive = await CollectAsync(options with { RuntimeVersion = version }, log, cancellationToken);
        log?.Invoke($"Loading {archive.Count} entries ({archive.ContentBytes / (1024 * 1024)} MiB) as {reference}");
        // Loaded, not imported: import stamps the clock into the config; this config has only fixed times.
        using var layer = await LayerFile.WriteAsync(archive, cancellationToken);
        var id = await ImageLayout.LoadAsync(docker, Config(options, version, layer.DiffId), [layer], [reference], cancellationToken);
        var image = await docker.InspectImageAsync(reference, cancellationToken)
                    ?? throw new DeliveryException($"Base image {reference} was loaded but the engine does not list it");
        log?.Invoke($"Created {reference} ({image.Size / (1000 * 1000)} MB) in {watch.Elapsed.TotalSeconds:0.0} s");
        return new RuntimeBaseImageResult(reference, id, image.Size, version, Created: true, watch.Elapsed);
    }

    /// <summary>The image's config: environment and labels, one layer, and the epoch for every time (the files carry
    /// the epoch too), so the same host files always give the same image id.</summary>
    public static byte[] Config(RuntimeBaseImageOptions options, string runtimeVersion, string layerDiffId)
    {
        var created = ImageLayout.Time(DateTimeOffset.UnixEpoch);
        var config = new System.Text.Json.Nodes.JsonObject
        {
            ["architecture"] = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
            {
                System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
                _ => "amd64",
            },
            ["config"] = new System.Text.Json.Nodes.JsonObject
            {
                ["Env"] = new System.Text.Json.Nodes.JsonArray(ImageEnvironment(options).Select(e => (System.Text.Json.Nodes.JsonNode?)e).ToArray()),
                ["Labels"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["org.opencontainers.image.title"] = options.Repository,
                    ["org.opencontainers.image.version"] = $"{runtimeVersion}-offline",
                },
            },
            ["created"] = created,
            ["history"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["created"] = created,
                ["created_by"] = $"root filesystem from this machine's .NET {runtimeVersion} runtime",
            }),
            ["os"] = "linux",
            ["rootfs"] = new System.Text.Json.Nodes.JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new System.Text.Json.Nodes.JsonArray(layerDiffId),
            },
        };
        return System.Text.Encoding.UTF8.GetBytes(config.ToJsonString());
    }

    static IReadOnlyList<string> ImageEnvironment(RuntimeBaseImageOptions options) =>
    [
        $"PATH={SystemPath}:{options.DotnetRoot}",
        $"DOTNET_ROOT={options.DotnetRoot}",
        "DOTNET_RUNNING_IN_CONTAINER=true",
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        $"APP_UID={options.AppUid}",
    ];

    /// <summary>The newest version present in both shared/Microsoft.NETCore.App and shared/Microsoft.AspNetCore.App.</summary>
    public static string DetectRuntimeVersion(string dotnetRoot = "/usr/share/dotnet")
    {
        var core = Versions(Path.Combine(dotnetRoot, "shared", "Microsoft.NETCore.App"));
        var asp = Versions(Path.Combine(dotnetRoot, "shared", "Microsoft.AspNetCore.App"));
        var both = core.Intersect(asp).ToList();
        if (both.Count == 0)
            throw new DeliveryException($"No ASP.NET Core runtime found under {dotnetRoot}/shared: install the .NET SDK or aspnetcore-runtime");
        return both.OrderByDescending(v => Version.TryParse(v.Split('-')[0], out var parsed) ? parsed : new Version(0, 0))
            .ThenByDescending(v => v, StringComparer.Ordinal).First();
    }

    static IEnumerable<string> Versions(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateDirectories(directory).Select(Path.GetFileName).OfType<string>() : [];

    /// <summary>Gathers the image's files from this machine.</summary>
    public static async Task<RootFilesystemArchive> CollectAsync(RuntimeBaseImageOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var root = options.DotnetRoot.TrimEnd('/');
        var version = options.RuntimeVersion ?? DetectRuntimeVersion(root);
        var archive = new RootFilesystemArchive();

        var hostExecutable = $"{root}/dotnet";
        var frameworkDirs = new[] { $"{root}/shared/Microsoft.NETCore.App/{version}", $"{root}/shared/Microsoft.AspNetCore.App/{version}" };
        var fxrDir = Directory.EnumerateDirectories($"{root}/host/fxr")
            .OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version(0, 0)).FirstOrDefault()
            ?? throw new DeliveryException($"No host/fxr under {root}: the .NET install is incomplete");

        // The runtime's own native files, minus any whose dependencies this machine lacks (an optional LTTng
        // tracing provider on most hosts): the runtime only tries to load them and carries on without.
        var nativeFiles = frameworkDirs.SelectMany(d => Directory.EnumerateFiles(d, "*.so")).Append(hostExecutable)
            .Concat(Directory.EnumerateFiles(fxrDir, "*.so")).ToList();
        var linked = await LinkedLibrariesAsync(nativeFiles, cancellationToken);
        var skipped = linked.Where(l => l.Value.Missing.Count > 0).Select(l => l.Key).ToHashSet();
        foreach (var file in skipped)
            log?.Invoke($"Leaving out {Path.GetFileName(file)}: needs {string.Join(", ", linked[file].Missing)}, which this machine lacks");

        archive.AddHostPath(hostExecutable);
        archive.AddHostPath(fxrDir, recursive: true);
        foreach (var dir in frameworkDirs)
        {
            if (!Directory.Exists(dir)) throw new DeliveryException($"{dir} does not exist on this machine");
            archive.AddDirectory(dir);
            foreach (var file in Directory.EnumerateFiles(dir).Where(f => !skipped.Contains(f)))
                archive.AddHostPath(file);
        }
        archive.AddSymlink("/usr/bin/dotnet", hostExecutable);

        // Loaded at run time with dlopen, so ldd of the runtime does not list them.
        var dlopened = await DlopenedLibrariesAsync(cancellationToken);
        var dlopenDeps = await LinkedLibrariesAsync(dlopened, cancellationToken);
        var libraries = linked.Where(l => !skipped.Contains(l.Key)).SelectMany(l => l.Value.Paths)
            .Concat(dlopened).Concat(dlopenDeps.Values.SelectMany(d => d.Paths)).ToHashSet();
        foreach (var library in libraries.Order(StringComparer.Ordinal)) archive.AddHostPath(library);

        const string caBundle = "/etc/ssl/certs/ca-certificates.crt";
        if (File.Exists(caBundle))
        {
            archive.AddHostPath(caBundle);
            foreach (var link in new[] { "/usr/lib/ssl/cert.pem", "/usr/lib/ssl/certs" })
                if (new FileInfo(link).LinkTarget is not null) archive.AddHostPath(link);
        }
        else
        {
            log?.Invoke($"No CA bundle at {caBundle}: outgoing TLS from the image will not trust public CAs");
        }

        var (uid, gid, user) = (options.AppUid, options.AppGid, options.AppUserName);
        archive.AddText("/etc/passwd", $"root:x:0:0:root:/root:/usr/sbin/nologin\n{user}:x:{uid}:{gid}:{user}:/home/{user}:/usr/sbin/nologin\n");
        archive.AddText("/etc/group", $"root:x:0:\n{user}:x:{gid}:\n");
        archive.AddText("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n");
        archive.AddDirectory("/root", (UnixFileMode)0b111_000_000);
        archive.AddDirectory($"/home/{user}", (UnixFileMode)0b111_101_101, uid, gid);
        archive.AddDirectory("/tmp", (UnixFileMode)0b1_111_111_111); // 1777
        return archive;
    }

    sealed record Linkage(List<string> Paths, List<string> Missing);

    /// <summary>Runs ldd once over all files and returns, per file, the libraries it resolves (and the ones it cannot).</summary>
    static async Task<Dictionary<string, Linkage>> LinkedLibrariesAsync(IReadOnlyCollection<string> files, CancellationToken cancellationToken)
    {
        var result = files.ToDictionary(f => f, _ => new Linkage([], []));
        if (files.Count == 0) return result;
        // ldd exits 1 when one of the files is not dynamic; its output is still complete.
        var run = await ProcessRunner.RunAsync("ldd", files, cancellationToken: cancellationToken);
        if (run.StandardOutput.Length == 0)
            throw new DeliveryException($"ldd gave no output for the .NET runtime files: {run.Tail()}");
        var current = files.Count == 1 ? files.First() : null;
        foreach (var raw in run.StandardOutput.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0) continue;
            if (!char.IsWhiteSpace(line[0]) && line.EndsWith(':') && result.ContainsKey(line[..^1]))
            {
                current = line[..^1];
                continue;
            }
            if (current is null) continue;
            if (LddResolved().Match(line) is { Success: true } resolved) result[current].Paths.Add(resolved.Groups[1].Value);
            else if (LddLoader().Match(line) is { Success: true } loader) result[current].Paths.Add(loader.Groups[1].Value);
            else if (LddMissing().Match(line) is { Success: true } missing) result[current].Missing.Add(missing.Groups[1].Value);
        }
        return result;
    }

    /// <summary>OpenSSL 3 and the newest ICU, found through the loader cache.</summary>
    static async Task<List<string>> DlopenedLibrariesAsync(CancellationToken cancellationToken)
    {
        var cache = await ProcessRunner.RunCheckedAsync("ldconfig", ["-p"], cancellationToken: cancellationToken);
        var bySoname = new Dictionary<string, string>();
        foreach (var line in cache.StandardOutput.Split('\n'))
            if (LdconfigEntry().Match(line) is { Success: true } m && m.Groups[2].Value.Contains("x86-64") == Environment.Is64BitProcess)
                bySoname.TryAdd(m.Groups[1].Value, m.Groups[3].Value);

        var found = new List<string>();
        foreach (var name in new[] { "libssl.so.3", "libcrypto.so.3" })
            found.Add(bySoname.GetValueOrDefault(name)
                      ?? throw new DeliveryException($"{name} is not installed on this machine: install OpenSSL 3 (apt-get install -y libssl3)"));

        var icuVersion = bySoname.Keys.Select(k => IcuSoname().Match(k)).Where(m => m.Success && m.Groups[1].Value == "uc")
            .Select(m => int.Parse(m.Groups[2].Value)).OrderDescending().Cast<int?>().FirstOrDefault()
            ?? throw new DeliveryException("ICU (libicuuc.so.N) is not installed on this machine: install libicu (e.g. apt-get install -y libicu72)");
        foreach (var part in new[] { "uc", "i18n", "data" })
            found.Add(bySoname.GetValueOrDefault($"libicu{part}.so.{icuVersion}")
                      ?? throw new DeliveryException($"libicu{part}.so.{icuVersion} is missing on this machine: reinstall libicu{icuVersion}"));
        return found;
    }

    [GeneratedRegex(@"^\s+\S+ => (/\S+) \(0x[0-9a-f]+\)$")]
    private static partial Regex LddResolved();

    [GeneratedRegex(@"^\s+(/\S+) \(0x[0-9a-f]+\)$")]
    private static partial Regex LddLoader();

    [GeneratedRegex(@"^\s+(\S+) => not found$")]
    private static partial Regex LddMissing();

    [GeneratedRegex(@"^\s+(\S+) \(([^)]*)\) => (/\S+)$")]
    private static partial Regex LdconfigEntry();

    [GeneratedRegex(@"^libicu(uc|i18n|data)\.so\.(\d+)$")]
    private static partial Regex IcuSoname();
}
