using System.Text;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>What the app image is: a base image plus one layer holding a directory, and the config around it.</summary>
public sealed record AppImageSpec
{
    /// <summary>A base image the engine holds (reference or id).</summary>
    public required string BaseImage { get; init; }
    /// <summary>The host directory (the publish output) that becomes <see cref="WorkingDirectory"/>.</summary>
    public required string AppDirectory { get; init; }
    /// <summary>The commit time: every time in the layer and config. Never the clock.</summary>
    public required DateTimeOffset Created { get; init; }
    public string WorkingDirectory { get; init; } = "/app";
    public IReadOnlyList<string> Entrypoint { get; init; } = ["dotnet", "WebApp.dll"];
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<int> ExposedPorts { get; init; } = [];
    /// <summary>Numeric, so it works in bases without that user in /etc/passwd.</summary>
    public string User { get; init; } = "10001:10001";
    /// <summary>Where a host mounts the environment's data store (an empty directory owned by <see cref="User"/>: docker
    /// gives a new volume its owner, so the non-root app can write there while the root stays read-only).</summary>
    public string DataDirectory { get; init; } = "/data";
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>The built image: its id (the config digest), its config bytes, and the base it was made from.</summary>
public sealed record AppImageResult(string ImageId, byte[] Config, string BaseImageId, string AppLayerDiffId, long AppLayerSize);

/// <summary>
/// The app image, assembled by the build (see <see cref="ImageLayout"/>): the base image's config with the app's
/// settings, one layer of the app directory (sorted entries, owner root, modes 0755/0644, every time the commit's),
/// and one history entry, all stamped with the commit time. Two clones of one commit give the same image id.
/// </summary>
public static class AppImage
{
    public static async Task<AppImageResult> BuildAsync(DockerEngineClient docker, AppImageSpec spec, CancellationToken cancellationToken = default)
    {
        var baseConfig = await ImageLayout.ReadConfigAsync(docker, spec.BaseImage, cancellationToken: cancellationToken);
        var archive = new RootFilesystemArchive { ModificationTime = spec.Created };
        archive.AddTree(Path.GetFullPath(spec.AppDirectory), spec.WorkingDirectory);
        var (uid, gid) = NumericUser(spec.User);
        archive.AddDirectory(spec.DataDirectory, uid: uid, gid: gid);
        using var layer = await LayerFile.WriteAsync(archive, cancellationToken);
        var config = Config(baseConfig, spec, layer.DiffId);
        var id = await ImageLayout.LoadAsync(docker, config, [layer], spec.Tags, cancellationToken);
        return new AppImageResult(id, config, ImageLayout.DigestOf(baseConfig), layer.DiffId, layer.Size);
    }

    /// <summary>"uid:gid" (or "uid", then gid = uid) as numbers; a name cannot own a file in a layer.</summary>
    static (int Uid, int Gid) NumericUser(string user)
    {
        var parts = user.Split(':');
        int? Id(string text) => int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
        if (parts.Length is 1 or 2 && Id(parts[0]) is { } uid && Id(parts[^1]) is { } gid) return (uid, gid);
        throw new DeliveryException($"The image user must be numeric (uid or uid:gid), not '{user}'");
    }

    /// <summary>The app's config: the base's, minus the base builder's own state, with the app's settings, the
    /// layer and a history entry added.</summary>
    public static byte[] Config(byte[] baseConfig, AppImageSpec spec, string appLayerDiffId)
    {
        var root = JsonNode.Parse(baseConfig)?.AsObject() ?? throw new DeliveryException("The base image's config is not a JSON object");
        foreach (var builderState in new[] { "container", "container_config", "docker_version", "parent", "id", "comment", "author" })
            root.Remove(builderState);
        var created = ImageLayout.Time(spec.Created);
        root["created"] = created;
        var config = root["config"] as JsonObject ?? new JsonObject();
        root["config"] = config;

        var env = (config["Env"]?.AsArray().Select(e => e!.GetValue<string>()) ?? []).ToList();
        foreach (var (name, value) in spec.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            env.RemoveAll(e => e.StartsWith(name + "=", StringComparison.Ordinal));
            env.Add($"{name}={value}");
        }
        config["Env"] = Strings(env);
        config["WorkingDir"] = spec.WorkingDirectory;
        config["User"] = spec.User;
        config["Entrypoint"] = Strings(spec.Entrypoint);
        config["Cmd"] = null;
        var ports = config["ExposedPorts"] as JsonObject ?? new JsonObject();
        foreach (var port in spec.ExposedPorts.Order()) ports[$"{port}/tcp"] = new JsonObject();
        config["ExposedPorts"] = ports;
        var labels = config["Labels"] as JsonObject ?? new JsonObject();
        foreach (var (name, value) in spec.Labels.OrderBy(l => l.Key, StringComparer.Ordinal)) labels[name] = value;
        config["Labels"] = labels;

        var history = root["history"] as JsonArray ?? new JsonArray();
        history.Add(new JsonObject { ["created"] = created, ["created_by"] = $"COPY app {spec.WorkingDirectory} # assembled by the build" });
        root["history"] = history;
        var rootfs = root["rootfs"] as JsonObject ?? throw new DeliveryException("The base image's config has no rootfs");
        rootfs["diff_ids"]!.AsArray().Add(appLayerDiffId);
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());
}
