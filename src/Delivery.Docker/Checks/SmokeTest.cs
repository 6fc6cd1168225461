using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Delivery.Core;
using Docker.DotNet.Models;

namespace Delivery.Docker;

public sealed record SmokeTestOptions
{
    public required string Image { get; init; }
    /// <summary>The version /version must report.</summary>
    public required string ExpectedVersion { get; init; }
    public int ContainerPort { get; init; } = 8080;
    public string NamePrefix { get; init; } = "webapp-smoke";
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public string ReadyPath { get; init; } = "/readyz";
    /// <summary>Paths that must answer 200 once ready (besides /version).</summary>
    public IReadOnlyList<string> Paths { get; init; } = ["/", "/metrics"];
    public string VersionPath { get; init; } = "/version";
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    public int LogTailLines { get; init; } = 30;
}

public sealed record SmokeTestResult(
    string ContainerName,
    int HostPort,
    string ReportedVersion,
    IReadOnlyList<string> ProcessUids,
    IReadOnlyDictionary<string, int> StatusCodes,
    TimeSpan TimeToReady);

/// <summary>A failed smoke test; <see cref="LogTail"/> holds the container's last log lines.</summary>
public sealed class SmokeTestException(string message, IReadOnlyList<string> logTail) : DeliveryException(message)
{
    public IReadOnlyList<string> LogTail { get; } = logTail;
}

/// <summary>
/// Runs the image the way a deploy does (loopback port, read-only root filesystem, no capabilities,
/// no-new-privileges), waits until it is ready, checks its endpoints, its version and that it does not run as root,
/// then removes the container.
/// </summary>
public static class SmokeTest
{
    public static async Task<SmokeTestResult> RunAsync(DockerEngineClient docker, SmokeTestOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var name = $"{options.NamePrefix}-{Guid.NewGuid().ToString("N")[..8]}";
        var labels = new Dictionary<string, string>(options.Labels ?? new Dictionary<string, string>()) { ["delivery.smoke-test"] = "true" };
        var parameters = new CreateContainerParameters
        {
            Image = options.Image,
            Name = name,
            Env = options.Environment?.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            Labels = labels,
            ExposedPorts = new Dictionary<string, EmptyStruct> { [$"{options.ContainerPort}/tcp"] = default },
            HostConfig = new HostConfig
            {
                // Host port "" lets the engine pick a free loopback port.
                PortBindings = new Dictionary<string, IList<PortBinding>>
                {
                    [$"{options.ContainerPort}/tcp"] = [new PortBinding { HostIP = "127.0.0.1", HostPort = "" }],
                },
                ReadonlyRootfs = true,
                Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,noexec,nosuid,size=64m" },
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
            },
        };

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string? containerId = null;
        try
        {
            containerId = (await docker.CallAsync($"create container {name}", api => api.Containers.CreateContainerAsync(parameters, cancellationToken), cancellationToken)).ID;
            var id = containerId;
            await docker.CallAsync($"start container {name}", api => api.Containers.StartContainerAsync(id, null, cancellationToken), cancellationToken);
            var details = await docker.CallAsync($"inspect container {name}", api => api.Containers.InspectContainerAsync(id, cancellationToken), cancellationToken);
            // An app that dies at once takes its port binding with it: say that it exited, not that no port was bound.
            if (details.State is { Running: false } stopped)
                throw new DeliveryException($"Smoke test of {options.Image}: the container exited with code {stopped.ExitCode} before {options.ReadyPath} answered");
            var port = HostPortFor(details, options.ContainerPort)
                       ?? throw new DeliveryException($"Smoke test container {name} has no host port for {options.ContainerPort}/tcp");
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            log?.Invoke($"Smoke test: {options.Image} runs as {name} on {baseUri}");

            var ready = await WaitUntilReadyAsync(docker, http, containerId, new Uri(baseUri, options.ReadyPath), options, cancellationToken);

            var statuses = new Dictionary<string, int>();
            foreach (var path in options.Paths)
            {
                var (status, body) = await GetAsync(http, new Uri(baseUri, path), cancellationToken);
                statuses[path] = (int)status;
                if (status != HttpStatusCode.OK || body.Length == 0)
                    throw new DeliveryException($"Smoke test of {options.Image}: GET {path} answered {(int)status}{(body.Length == 0 ? " with an empty body" : "")}");
            }

            var (versionStatus, versionBody) = await GetAsync(http, new Uri(baseUri, options.VersionPath), cancellationToken);
            statuses[options.VersionPath] = (int)versionStatus;
            if (versionStatus != HttpStatusCode.OK)
                throw new DeliveryException($"Smoke test of {options.Image}: GET {options.VersionPath} answered {(int)versionStatus}");
            var reported = ReadVersion(versionBody);
            if (!VersionMatches(reported, options.ExpectedVersion))
                throw new DeliveryException($"Smoke test of {options.Image}: {options.VersionPath} reports '{reported}', expected '{options.ExpectedVersion}'");

            var processes = await docker.CallAsync($"list processes of container {name}",
                api => api.Containers.ListProcessesAsync(id, new ContainerListProcessesParameters { PsArgs = "-o pid,uid,comm" }, cancellationToken), cancellationToken);
            var uidColumn = processes.Titles.IndexOf("UID");
            var uids = processes.Processes.Where(p => uidColumn >= 0 && p.Count > uidColumn).Select(p => p[uidColumn]).ToList();
            if (uids.Count == 0)
                throw new DeliveryException($"Smoke test of {options.Image}: no processes are running in {name}");
            if (uids.Any(uid => uid is "0" or "root"))
                throw new DeliveryException($"Smoke test of {options.Image}: a process in {name} runs as root (uids: {string.Join(", ", uids.Distinct())})");

            log?.Invoke($"Smoke test passed: ready in {ready.TotalSeconds:0.0} s, version {reported}, uid {string.Join(",", uids.Distinct())}");
            return new SmokeTestResult(name, port, reported, uids, statuses, ready);
        }
        catch (Exception ex) when (ex is DeliveryException and not SmokeTestException || ex is HttpRequestException ||
                                   ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var message = ex is DeliveryException ? ex.Message : $"Smoke test of {options.Image}: {ex.Message}";
            var tail = containerId is null ? [] : await LogTailAsync(docker, containerId, options.LogTailLines);
            if (tail.Count > 0)
            {
                log?.Invoke($"Last {tail.Count} log lines of {name}:");
                foreach (var line in tail) log?.Invoke("  | " + line);
            }
            throw new SmokeTestException(message, tail);
        }
        finally
        {
            if (containerId is not null)
            {
                try
                {
                    await docker.CallAsync($"remove container {name}",
                        api => api.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, CancellationToken.None));
                }
                catch (DeliveryException removeError)
                {
                    log?.Invoke($"Could not remove smoke test container {name}: {removeError.Message}");
                }
            }
        }
    }

    static async Task<TimeSpan> WaitUntilReadyAsync(
        DockerEngineClient docker, HttpClient http, string containerId, Uri readyUri, SmokeTestOptions options, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var lastAnswer = "no answer yet";
        while (watch.Elapsed < options.ReadyTimeout)
        {
            var state = (await docker.CallAsync($"inspect container {containerId}", api => api.Containers.InspectContainerAsync(containerId, cancellationToken), cancellationToken)).State;
            if (state is null || !state.Running)
                throw new DeliveryException($"Smoke test of {options.Image}: the container exited with code {state?.ExitCode} before {readyUri.AbsolutePath} answered");
            try
            {
                var (status, _) = await GetAsync(http, readyUri, cancellationToken);
                if (status == HttpStatusCode.OK) return watch.Elapsed;
                lastAnswer = $"last answer {(int)status}";
            }
            catch (HttpRequestException ex)
            {
                lastAnswer = ex.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastAnswer = "request timed out";
            }
            await Task.Delay(250, cancellationToken);
        }
        throw new DeliveryException($"Smoke test of {options.Image}: {readyUri.AbsolutePath} not ready after {options.ReadyTimeout.TotalSeconds:0} s ({lastAnswer})");
    }

    static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, Uri uri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(uri, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>A JSON object's "version" (or "informationalVersion") property, else the body as text.</summary>
    public static string ReadVersion(string body)
    {
        var text = body.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                foreach (var name in new[] { "version", "informationalVersion" })
                    foreach (var property in json.RootElement.EnumerateObject())
                        if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
                            return property.Value.GetString()!;
            }
            catch (JsonException)
            {
            }
        }
        return text.Trim('"');
    }

    /// <summary>Equal, or equal once build metadata is dropped from the one side that has it: the app adds "+sha", and
    /// shows a tag's own metadata (MinVer keeps "1.2.3+build.5" on a tagged HEAD) without it.</summary>
    public static bool VersionMatches(string reported, string expected) =>
        reported == expected ||
        (reported.Split('+')[0] == expected.Split('+')[0] && !(reported.Contains('+') && expected.Contains('+')));

    /// <summary>The host port the engine bound to a container port, or null when it is not published.</summary>
    static int? HostPortFor(ContainerInspectResponse container, int containerPort) =>
        container.NetworkSettings?.Ports is { } ports && ports.TryGetValue($"{containerPort}/tcp", out var bindings) && bindings is not null
            ? bindings.Select(b => int.TryParse(b.HostPort, out var p) ? p : 0).FirstOrDefault(p => p > 0) is > 0 and var port ? port : null
            : null;

    static async Task<IReadOnlyList<string>> LogTailAsync(DockerEngineClient docker, string containerId, int lines)
    {
        try
        {
            return (await docker.GetContainerLogsAsync(containerId, lines, CancellationToken.None)).Select(l => l.Text).ToList();
        }
        catch (DeliveryException)
        {
            return [];
        }
    }
}
