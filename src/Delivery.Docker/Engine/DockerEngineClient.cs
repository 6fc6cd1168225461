using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>A failed Engine API call that the engine answered with an HTTP error.</summary>
public class DockerEngineException(string operation, HttpStatusCode statusCode, string engineMessage)
    : DeliveryException($"Docker Engine: {operation} failed ({(int)statusCode}): {engineMessage}")
{
    public HttpStatusCode StatusCode { get; } = statusCode;
    public string EngineMessage { get; } = engineMessage;
}

/// <summary>A failed image build: the step that failed, the engine's error, and that step's output.</summary>
public sealed class DockerBuildException(string? failedStep, string engineError, IReadOnlyList<string> outputTail)
    : DeliveryException(failedStep is null ? $"Docker build failed: {engineError}" : $"Docker build failed at {failedStep}: {engineError}")
{
    /// <summary>e.g. "step 3/5 (RUN make)".</summary>
    public string? FailedStep { get; } = failedStep;
    public string EngineError { get; } = engineError;
    /// <summary>The output lines the failed step printed before failing (at most 50).</summary>
    public IReadOnlyList<string> OutputTail { get; } = outputTail;
}

/// <summary>
/// A small typed client for the Docker Engine API (v1.41) over a unix socket or plain TCP, covering what the build and
/// the smoke test need: images (build, tag, inspect, push, pull, import, remove) and containers.
/// </summary>
public sealed partial class DockerEngineClient : IDisposable
{
    public const string ApiVersion = "1.41";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    readonly HttpClient http;

    public DockerEngineClient(DockerEndpoint? endpoint = null)
    {
        Endpoint = endpoint ?? DockerEndpoint.FromEnvironment();
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        if (Endpoint.SocketPath is { } socketPath)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        // Builds and pushes stream for minutes; callers bound them with cancellation tokens instead.
        http = new HttpClient(handler) { BaseAddress = Endpoint.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public DockerEndpoint Endpoint { get; }

    public void Dispose() => http.Dispose();

    // ---------------------------------------------------------------- system

    /// <summary>Throws a one-line <see cref="DeliveryException"/> when the engine does not answer.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "/_ping", "ping", cancellationToken);
    }

    /// <summary>True when the engine answers a ping within <paramref name="timeout"/> (default 5 s).</summary>
    public async Task<bool> TryPingAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(5));
        try
        {
            await PingAsync(cts.Token);
            return true;
        }
        catch (DeliveryException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task<DockerVersion> VersionAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "/version", "version", cancellationToken);
        return await ReadJsonAsync<DockerVersion>(response, cancellationToken);
    }

    // ---------------------------------------------------------------- images

    /// <summary>Builds from a build context; the Dockerfile name comes from the context.</summary>
    public Task<string> BuildImageAsync(BuildContext context, ImageBuildOptions options, Action<string>? onOutput = null, CancellationToken cancellationToken = default) =>
        BuildImageAsync(context.OpenRead(), options with { Dockerfile = context.DockerfileName }, onOutput, cancellationToken);

    /// <summary>
    /// Builds an image from a tar build context (POST /build). Each output line goes to <paramref name="onOutput"/>.
    /// Returns the image id (sha256:…). A failing step throws <see cref="DockerBuildException"/>.
    /// </summary>
    public async Task<string> BuildImageAsync(Stream tarContext, ImageBuildOptions options, Action<string>? onOutput = null, CancellationToken cancellationToken = default)
    {
        var query = new QueryString()
            .Add("dockerfile", options.Dockerfile)
            .Add("rm", "1")
            .Add("forcerm", "1");
        foreach (var tag in options.Tags) query.Add("t", tag);
        if (options.BuildArgs is { Count: > 0 }) query.Add("buildargs", JsonSerializer.Serialize(options.BuildArgs));
        if (options.Labels is { Count: > 0 }) query.Add("labels", JsonSerializer.Serialize(options.Labels));
        if (options.NoCache) query.Add("nocache", "1");
        if (options.Pull) query.Add("pull", "1");

        using var content = new StreamContent(tarContext, 81920);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        using var response = await SendAsync(HttpMethod.Post, "/build" + query, "image build", cancellationToken, content);

        var transcript = new BuildTranscript(onOutput);
        string? imageId = null;
        await foreach (var message in ReadMessagesAsync(response, cancellationToken))
        {
            if (message.Stream is not null) transcript.Append(message.Stream);
            else if (message.Status is not null && message.ProgressDetail?.Current is null)
                transcript.Append((message.Id is null ? "" : message.Id + ": ") + message.Status + "\n");

            if (message.Aux is { ValueKind: JsonValueKind.Object } aux && aux.TryGetProperty("ID", out var id) && id.ValueKind == JsonValueKind.String)
                imageId = id.GetString();

            if (message.ErrorText is { } error)
            {
                transcript.Flush();
                throw new DockerBuildException(transcript.CurrentStep, error.Trim(), transcript.CurrentStepOutput);
            }
        }
        transcript.Flush();
        imageId ??= transcript.SuccessfullyBuiltId;
        if (imageId is null)
            throw new DeliveryException($"Docker build ended without an image id; last output: {transcript.LastLine ?? "(none)"}");
        return imageId;
    }

    /// <summary>Adds <paramref name="repository"/>:<paramref name="tag"/> to an existing image.</summary>
    public async Task TagImageAsync(string image, string repository, string tag, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("repo", repository).Add("tag", tag);
        using var response = await SendAsync(HttpMethod.Post, $"/images/{image}/tag{query}", $"tag {image} as {repository}:{tag}", cancellationToken);
    }

    /// <summary>The image's id, size, labels and RepoDigests, or null when no such image exists.</summary>
    public async Task<ImageDetails?> InspectImageAsync(string image, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/images/{image}/json", $"inspect image {image}", cancellationToken, allowed: HttpStatusCode.NotFound);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        return await ReadJsonAsync<ImageDetails>(response, cancellationToken);
    }

    /// <summary>Removes an image reference (and the image when it was the last one). False when it did not exist.</summary>
    public async Task<bool> RemoveImageAsync(string image, bool force = false, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("force", force ? "1" : "0");
        using var response = await SendAsync(HttpMethod.Delete, $"/images/{image}{query}", $"remove image {image}", cancellationToken, allowed: HttpStatusCode.NotFound);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    /// <summary>
    /// Local images, optionally only those whose reference matches <paramref name="reference"/> (engine filter
    /// syntax, e.g. "webapp" or "webapp:sha-*"). <paramref name="all"/> includes intermediate build images.
    /// </summary>
    public async Task<IReadOnlyList<ImageSummary>> ListImagesAsync(string? reference = null, bool all = false, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("all", all ? "1" : "0");
        if (reference is not null)
            query.Add("filters", JsonSerializer.Serialize(new Dictionary<string, string[]> { ["reference"] = [reference] }));
        using var response = await SendAsync(HttpMethod.Get, "/images/json" + query, "list images", cancellationToken);
        return await ReadJsonAsync<List<ImageSummary>>(response, cancellationToken);
    }

    /// <summary>
    /// Pushes repository:tag and returns the manifest digest the registry stored (sha256:…). Registry errors arrive
    /// inside the stream even on HTTP 200; they become a one-line <see cref="DeliveryException"/> naming the registry.
    /// </summary>
    public async Task<string> PushImageAsync(string repository, string tag, RegistryAuth? auth = null, Action<LayerProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var registry = ImageReference.RegistryOf(repository);
        var what = $"push of {repository}:{tag}";
        using var response = await SendAsync(HttpMethod.Post, $"/images/{repository}/push{new QueryString().Add("tag", tag)}", what, cancellationToken,
            registryAuth: auth ?? RegistryAuth.Anonymous);

        string? digest = null;
        await foreach (var message in ReadMessagesAsync(response, cancellationToken))
        {
            if (message.ErrorText is { } error) throw RegistryFailure(what, registry, error);
            if (message.Aux is { ValueKind: JsonValueKind.Object } aux && aux.TryGetProperty("Digest", out var d) && d.ValueKind == JsonValueKind.String)
                digest = d.GetString();
            if (message.Status is { } status)
            {
                if (digest is null && DigestInStatus().Match(status) is { Success: true } m) digest = m.Groups[1].Value;
                progress?.Invoke(new LayerProgress(message.Id, status, message.ProgressDetail?.Current, message.ProgressDetail?.Total));
            }
        }
        return digest ?? throw new DeliveryException($"Docker Engine: {what} to registry {registry} ended without reporting a digest");
    }

    /// <summary>Pulls repository:tag; returns the digest the engine reports (or null when it does not say).</summary>
    public async Task<string?> PullImageAsync(string repository, string tag, RegistryAuth? auth = null, Action<LayerProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var registry = ImageReference.RegistryOf(repository);
        var what = $"pull of {repository}:{tag}";
        var query = new QueryString().Add("fromImage", repository).Add("tag", tag);
        using var response = await SendAsync(HttpMethod.Post, "/images/create" + query, what, cancellationToken,
            registryAuth: auth ?? RegistryAuth.Anonymous, allowed: HttpStatusCode.NotFound);
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw RegistryFailure(what, registry, await ReadErrorAsync(response, cancellationToken));

        string? digest = null;
        await foreach (var message in ReadMessagesAsync(response, cancellationToken))
        {
            if (message.ErrorText is { } error) throw RegistryFailure(what, registry, error);
            if (message.Status is { } status)
            {
                if (DigestInStatus().Match(status) is { Success: true } m) digest = m.Groups[1].Value;
                progress?.Invoke(new LayerProgress(message.Id, status, message.ProgressDetail?.Current, message.ProgressDetail?.Total));
            }
        }
        return digest;
    }

    /// <summary>
    /// Creates an image from a root filesystem tar (POST /images/create?fromSrc=-), applying Dockerfile-style
    /// <paramref name="changes"/> such as "ENV PATH=…". Returns the new image id.
    /// </summary>
    public Task<string> ImportImageAsync(Stream rootFilesystemTar, string repository, string tag, IEnumerable<string>? changes = null, CancellationToken cancellationToken = default) =>
        ImportImageAsync(new StreamContent(rootFilesystemTar, 81920), repository, tag, changes, cancellationToken);

    /// <summary>As above, with the tar written straight into the request body by <paramref name="writeTar"/>.</summary>
    public Task<string> ImportImageAsync(Func<Stream, CancellationToken, Task> writeTar, string repository, string tag, IEnumerable<string>? changes = null, CancellationToken cancellationToken = default) =>
        ImportImageAsync(new WrittenContent(writeTar), repository, tag, changes, cancellationToken);

    async Task<string> ImportImageAsync(HttpContent content, string repository, string tag, IEnumerable<string>? changes, CancellationToken cancellationToken)
    {
        using var _ = content;
        var query = new QueryString().Add("fromSrc", "-").Add("repo", repository).Add("tag", tag);
        foreach (var change in changes ?? []) query.Add("changes", change);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        var what = $"import of {repository}:{tag}";
        using var response = await SendAsync(HttpMethod.Post, "/images/create" + query, what, cancellationToken, content);
        string? id = null;
        await foreach (var message in ReadMessagesAsync(response, cancellationToken))
        {
            if (message.ErrorText is { } error) throw new DeliveryException($"Docker Engine: {what} failed: {error}");
            if (message.Status is { } status && status.StartsWith("sha256:", StringComparison.Ordinal)) id = status.Trim();
        }
        return id ?? throw new DeliveryException($"Docker Engine: {what} ended without an image id");
    }

    // ---------------------------------------------------------------- containers

    /// <summary>Creates (does not start) a container; returns its id.</summary>
    public async Task<string> CreateContainerAsync(ContainerSpec spec, CancellationToken cancellationToken = default)
    {
        var body = ToCreateBody(spec);
        var query = new QueryString();
        if (spec.Name is not null) query.Add("name", spec.Name);
        using var content = JsonContent(body);
        using var response = await SendAsync(HttpMethod.Post, "/containers/create" + query, $"create container {spec.Name ?? "from " + spec.Image}", cancellationToken, content);
        var created = await ReadJsonAsync<CreatedContainer>(response, cancellationToken);
        return created.Id;
    }

    public async Task StartContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/containers/{container}/start", $"start container {container}", cancellationToken,
            allowed: HttpStatusCode.NotModified);
    }

    /// <summary>Stops a container, killing it after <paramref name="timeout"/>. Already stopped is fine.</summary>
    public async Task StopContainerAsync(string container, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("t", ((int)Math.Ceiling(timeout.TotalSeconds)).ToString());
        using var response = await SendAsync(HttpMethod.Post, $"/containers/{container}/stop{query}", $"stop container {container}", cancellationToken,
            allowed: HttpStatusCode.NotModified);
    }

    /// <summary>Removes a container (force kills it when running). False when it did not exist.</summary>
    public async Task<bool> RemoveContainerAsync(string container, bool force = true, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("force", force ? "1" : "0").Add("v", "1");
        using var response = await SendAsync(HttpMethod.Delete, $"/containers/{container}{query}", $"remove container {container}", cancellationToken,
            allowed: HttpStatusCode.NotFound);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    /// <summary>State, health and published ports; null when no such container exists.</summary>
    public async Task<ContainerDetails?> InspectContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/containers/{container}/json", $"inspect container {container}", cancellationToken,
            allowed: HttpStatusCode.NotFound);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        return await ReadJsonAsync<ContainerDetails>(response, cancellationToken);
    }

    /// <summary>Containers (running or not) that carry all the given labels ("key" or "key=value").</summary>
    public async Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IEnumerable<string>? labels = null, bool all = true, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("all", all ? "1" : "0");
        var labelList = labels?.ToArray() ?? [];
        if (labelList.Length > 0)
            query.Add("filters", JsonSerializer.Serialize(new Dictionary<string, string[]> { ["label"] = labelList }));
        using var response = await SendAsync(HttpMethod.Get, "/containers/json" + query, "list containers", cancellationToken);
        return await ReadJsonAsync<List<ContainerSummary>>(response, cancellationToken);
    }

    /// <summary>The last <paramref name="tail"/> lines of stdout and stderr, demultiplexed.</summary>
    public async Task<IReadOnlyList<ContainerLogLine>> GetContainerLogsAsync(string container, int tail = 100, CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("stdout", "1").Add("stderr", "1").Add("tail", tail.ToString());
        using var response = await SendAsync(HttpMethod.Get, $"/containers/{container}/logs{query}", $"logs of container {container}", cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return ContainerLogDecoder.Decode(bytes);
    }

    /// <summary>The container's processes as <c>ps</c> sees them on the host (default columns: PID, UID, COMMAND).</summary>
    public async Task<ContainerProcesses> TopAsync(string container, string psArguments = "-o pid,uid,comm", CancellationToken cancellationToken = default)
    {
        var query = new QueryString().Add("ps_args", psArguments);
        using var response = await SendAsync(HttpMethod.Get, $"/containers/{container}/top{query}", $"list processes of container {container}", cancellationToken);
        return await ReadJsonAsync<ContainerProcesses>(response, cancellationToken);
    }

    /// <summary>Waits until the container stops and returns its exit code.</summary>
    public async Task<int> WaitContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/containers/{container}/wait", $"wait for container {container}", cancellationToken);
        return (await ReadJsonAsync<WaitResult>(response, cancellationToken)).StatusCode;
    }

    static ContainerCreateBody ToCreateBody(ContainerSpec spec)
    {
        Dictionary<string, object>? exposed = null;
        Dictionary<string, IReadOnlyList<HostPortBinding>>? bindings = null;
        if (spec.Ports is { Count: > 0 })
        {
            exposed = [];
            bindings = [];
            foreach (var group in spec.Ports.GroupBy(p => $"{p.ContainerPort}/{p.Protocol}"))
            {
                exposed[group.Key] = new { };
                bindings[group.Key] = group.Select(p => new HostPortBinding(p.HostIp, p.HostPort == 0 ? "" : p.HostPort.ToString())).ToList();
            }
        }
        static long Nanos(TimeSpan t) => t.Ticks * 100;
        return new ContainerCreateBody
        {
            Image = spec.Image,
            Env = spec.Environment?.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            User = spec.User,
            Labels = spec.Labels,
            ExposedPorts = exposed,
            Entrypoint = spec.Entrypoint,
            Cmd = spec.Command,
            Healthcheck = spec.HealthCheck is { } h
                ? new HealthcheckBody(h.Test, Nanos(h.Interval), Nanos(h.Timeout), h.Retries, Nanos(h.StartPeriod))
                : null,
            HostConfig = new HostConfigBody
            {
                PortBindings = bindings,
                ReadonlyRootfs = spec.ReadOnlyRootFilesystem,
                Tmpfs = spec.Tmpfs,
                CapDrop = spec.CapDrop,
                SecurityOpt = spec.SecurityOptions,
                RestartPolicy = spec.RestartPolicy is null ? null : new RestartPolicyBody(spec.RestartPolicy),
                NetworkMode = spec.Network,
                Memory = spec.MemoryBytes,
                PidsLimit = spec.PidsLimit,
            },
        };
    }

    // ---------------------------------------------------------------- plumbing

    async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string pathAndQuery, string operation, CancellationToken cancellationToken,
        HttpContent? content = null, RegistryAuth? registryAuth = null, params HttpStatusCode[] allowed)
    {
        using var request = new HttpRequestMessage(method, $"/v{ApiVersion}{pathAndQuery}") { Content = content };
        if (registryAuth is not null) request.Headers.Add("X-Registry-Auth", registryAuth.ToHeaderValue());

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new DeliveryException($"Docker Engine is not reachable at {Endpoint} ({operation}): {Innermost(ex)}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeliveryException($"Docker Engine at {Endpoint} did not answer ({operation}): connection timed out", ex);
        }

        if (response.IsSuccessStatusCode || allowed.Contains(response.StatusCode)) return response;
        using (response)
        {
            var message = await ReadErrorAsync(response, cancellationToken);
            throw new DockerEngineException(operation, response.StatusCode, message);
        }
    }

    static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex.Message;
    }

    static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            if (JsonSerializer.Deserialize<EngineError>(text, Json)?.Message is { Length: > 0 } message) return message;
        }
        catch (JsonException)
        {
        }
        return string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase ?? "no details" : text.Trim();
    }

    static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync<T>(stream, Json, cancellationToken)
               ?? throw new DeliveryException($"Docker Engine returned an empty answer for {response.RequestMessage?.RequestUri?.AbsolutePath}");
    }

    static StringContent JsonContent<T>(T value) =>
        new(JsonSerializer.Serialize(value, Json), Encoding.UTF8, "application/json");

    /// <summary>The engine streams one JSON object per line (CRLF-terminated).</summary>
    static async IAsyncEnumerable<JsonMessage> ReadMessagesAsync(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonMessage? message;
            try
            {
                message = JsonSerializer.Deserialize<JsonMessage>(line, Json);
            }
            catch (JsonException)
            {
                message = new JsonMessage(line + "\n", null, null, null, null, null, null);
            }
            if (message is not null) yield return message;
        }
    }

    static DeliveryException RegistryFailure(string what, string registry, string error)
    {
        error = error.Trim();
        if (error.Contains("connection refused", StringComparison.OrdinalIgnoreCase) ||
            error.Contains("no such host", StringComparison.OrdinalIgnoreCase) ||
            error.Contains("i/o timeout", StringComparison.OrdinalIgnoreCase))
            return new DeliveryException($"Registry {registry} is not reachable ({what}): {error}");
        if (error.Contains("unauthorized", StringComparison.OrdinalIgnoreCase) ||
            error.Contains("no basic auth credentials", StringComparison.OrdinalIgnoreCase) ||
            error.Contains("authentication required", StringComparison.OrdinalIgnoreCase))
            return new DeliveryException(error.Contains("unauthorized", StringComparison.OrdinalIgnoreCase)
                ? $"Registry {registry} refused the {what}: {error} (check the registry username and password)"
                : $"Registry {registry} refused the {what} as unauthorized: {error} (check the registry username and password)");
        return new DeliveryException($"Registry {registry} refused the {what}: {error}");
    }

    [GeneratedRegex(@"[Dd]igest: (sha256:[0-9a-f]{64})")]
    private static partial Regex DigestInStatus();

    /// <summary>A request body produced by a writer callback, sent chunked.</summary>
    sealed class WrittenContent(Func<Stream, CancellationToken, Task> write) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => write(stream, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            write(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>Builds a query string with repeated keys allowed (the engine reads repeated "t" and "changes").</summary>
    sealed class QueryString
    {
        readonly StringBuilder builder = new();

        public QueryString Add(string name, string value)
        {
            builder.Append(builder.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            return this;
        }

        public override string ToString() => builder.ToString();
    }
}
