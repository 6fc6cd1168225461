using System.Text.Json;
using System.Text.Json.Serialization;

namespace Delivery.Docker;

// Shapes of the Docker Engine API v1.41 JSON, limited to the fields this repository reads or sends.

public sealed record DockerVersion(string Version, string ApiVersion, string MinAPIVersion, string Os, string Arch, string KernelVersion);

public sealed record ImageConfig(
    string? User,
    IReadOnlyList<string>? Env,
    IReadOnlyDictionary<string, string>? Labels,
    IReadOnlyDictionary<string, JsonElement>? ExposedPorts,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Cmd,
    string? WorkingDir);

public sealed record ImageDetails(
    string Id,
    IReadOnlyList<string>? RepoTags,
    IReadOnlyList<string>? RepoDigests,
    long Size,
    string? Created,
    string? Os,
    string? Architecture,
    ImageConfig? Config)
{
    public IReadOnlyDictionary<string, string> Labels => Config?.Labels ?? new Dictionary<string, string>();
}

public sealed record ImageSummary(
    string Id,
    string? ParentId,
    IReadOnlyList<string>? RepoTags,
    IReadOnlyList<string>? RepoDigests,
    long Created,
    long Size,
    IReadOnlyDictionary<string, string>? Labels);

public sealed record HealthLogEntry(int ExitCode, string? Output);

public sealed record ContainerHealth(string Status, int FailingStreak, IReadOnlyList<HealthLogEntry>? Log);

public sealed record ContainerState(
    string Status,
    bool Running,
    bool Restarting,
    bool OOMKilled,
    bool Dead,
    int Pid,
    int ExitCode,
    string? Error,
    string? StartedAt,
    string? FinishedAt,
    ContainerHealth? Health);

public sealed record HostPortBinding(string? HostIp, string? HostPort);

public sealed record ContainerNetworkSettings(IReadOnlyDictionary<string, IReadOnlyList<HostPortBinding>?>? Ports);

public sealed record ContainerConfig(string? User, string? Image, IReadOnlyList<string>? Env, IReadOnlyDictionary<string, string>? Labels, bool Tty);

public sealed record ContainerHostConfig(bool ReadonlyRootfs, IReadOnlyList<string>? CapDrop, IReadOnlyList<string>? SecurityOpt);

public sealed record ContainerDetails(
    string Id,
    string Name,
    string Image,
    ContainerState State,
    ContainerConfig Config,
    ContainerHostConfig? HostConfig,
    ContainerNetworkSettings? NetworkSettings)
{
    /// <summary>The host port bound to a container port (e.g. 8080/tcp), or null when it is not published.</summary>
    public int? HostPortFor(int containerPort, string protocol = "tcp")
    {
        if (NetworkSettings?.Ports is null || !NetworkSettings.Ports.TryGetValue($"{containerPort}/{protocol}", out var bindings) || bindings is null)
            return null;
        foreach (var b in bindings)
            if (int.TryParse(b.HostPort, out var port) && port > 0) return port;
        return null;
    }

    /// <summary>"healthy", "unhealthy", "starting", or null when the image has no health check.</summary>
    public string? HealthStatus => State.Health?.Status;
}

public sealed record ContainerSummary(
    string Id,
    IReadOnlyList<string> Names,
    string Image,
    string State,
    string Status,
    IReadOnlyDictionary<string, string>? Labels);

/// <summary>The output of <c>ps</c> for a container's processes, as returned by the engine's top endpoint.</summary>
public sealed record ContainerProcesses(IReadOnlyList<string> Titles, IReadOnlyList<IReadOnlyList<string>> Processes)
{
    /// <summary>The values of one column (e.g. "UID") for every process.</summary>
    public IReadOnlyList<string> Column(string title)
    {
        var index = Titles.ToList().FindIndex(t => string.Equals(t, title, StringComparison.OrdinalIgnoreCase));
        if (index < 0) return [];
        return Processes.Where(p => p.Count > index).Select(p => p[index]).ToList();
    }
}

/// <summary>Progress of one step while pushing, pulling or importing: a layer id (when the step is about a layer),
/// its status ("Pushing", "Pushed", "Layer already exists", "Downloading"…), and byte counts when known.</summary>
public sealed record LayerProgress(string? LayerId, string Status, long? Current, long? Total);

public enum LogStream { StdOut = 1, StdErr = 2 }

public sealed record ContainerLogLine(LogStream Stream, string Text)
{
    public override string ToString() => Text;
}

/// <summary>A port to publish: the container's port on a host address (loopback by default); HostPort 0 lets the engine pick a free one.</summary>
public sealed record PortBinding(int ContainerPort, int HostPort = 0, string HostIp = "127.0.0.1", string Protocol = "tcp");

/// <summary>A health check run by the engine inside the container. Test is in the engine's form, e.g. ["CMD", "/probe"].</summary>
public sealed record ContainerHealthCheck(IReadOnlyList<string> Test, TimeSpan Interval, TimeSpan Timeout, int Retries, TimeSpan StartPeriod);

/// <summary>What to create a container from, with the hardening options the deploys use.</summary>
public sealed record ContainerSpec
{
    public required string Image { get; init; }
    public string? Name { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public IReadOnlyList<PortBinding>? Ports { get; init; }
    /// <summary>"uid:gid" or a user name; null keeps the image's USER.</summary>
    public string? User { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    public bool ReadOnlyRootFilesystem { get; init; }
    /// <summary>Mount point → options, e.g. "/tmp" → "rw,noexec,nosuid,size=64m".</summary>
    public IReadOnlyDictionary<string, string>? Tmpfs { get; init; }
    /// <summary>Capabilities to drop, e.g. ["ALL"].</summary>
    public IReadOnlyList<string>? CapDrop { get; init; }
    /// <summary>e.g. ["no-new-privileges"].</summary>
    public IReadOnlyList<string>? SecurityOptions { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    /// <summary>"no", "always", "unless-stopped" or "on-failure"; null leaves the engine default.</summary>
    public string? RestartPolicy { get; init; }
    public string? Network { get; init; }
    public ContainerHealthCheck? HealthCheck { get; init; }
    public long? MemoryBytes { get; init; }
    public long? PidsLimit { get; init; }
}

public sealed record ImageBuildOptions
{
    /// <summary>The Dockerfile's path inside the context.</summary>
    public string Dockerfile { get; init; } = "Dockerfile";
    /// <summary>Full references, e.g. "webapp:1.2.3", "127.0.0.1:5000/webapp:sha-abc1234".</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyDictionary<string, string>? BuildArgs { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    public bool NoCache { get; init; }
    /// <summary>Try to pull a newer FROM image; leave off for offline base images.</summary>
    public bool Pull { get; init; }
}

// Wire formats.

internal sealed record ProgressDetail(
    [property: JsonPropertyName("current")] long? Current,
    [property: JsonPropertyName("total")] long? Total);

internal sealed record ErrorDetail(
    [property: JsonPropertyName("code")] int? Code,
    [property: JsonPropertyName("message")] string? Message);

/// <summary>One line of the engine's streamed JSON (build, push, pull, import).</summary>
internal sealed record JsonMessage(
    [property: JsonPropertyName("stream")] string? Stream,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("progressDetail")] ProgressDetail? ProgressDetail,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("errorDetail")] ErrorDetail? ErrorDetail,
    [property: JsonPropertyName("aux")] JsonElement? Aux)
{
    public string? ErrorText => ErrorDetail?.Message ?? Error;
}

internal sealed record EngineError([property: JsonPropertyName("message")] string? Message);

internal sealed record CreatedContainer(string Id, IReadOnlyList<string>? Warnings);

internal sealed record WaitResult(int StatusCode);

internal sealed record ContainerCreateBody
{
    public required string Image { get; init; }
    public IReadOnlyList<string>? Env { get; init; }
    public string? User { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    public IReadOnlyDictionary<string, object>? ExposedPorts { get; init; }
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public HealthcheckBody? Healthcheck { get; init; }
    public required HostConfigBody HostConfig { get; init; }
}

internal sealed record HealthcheckBody(IReadOnlyList<string> Test, long Interval, long Timeout, int Retries, long StartPeriod);

internal sealed record RestartPolicyBody(string Name);

internal sealed record HostConfigBody
{
    public IReadOnlyDictionary<string, IReadOnlyList<HostPortBinding>>? PortBindings { get; init; }
    public bool ReadonlyRootfs { get; init; }
    public IReadOnlyDictionary<string, string>? Tmpfs { get; init; }
    public IReadOnlyList<string>? CapDrop { get; init; }
    public IReadOnlyList<string>? SecurityOpt { get; init; }
    public RestartPolicyBody? RestartPolicy { get; init; }
    public string? NetworkMode { get; init; }
    public long? Memory { get; init; }
    public long? PidsLimit { get; init; }
}
