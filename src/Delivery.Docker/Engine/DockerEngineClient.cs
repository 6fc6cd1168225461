using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Delivery.Core;
using Docker.DotNet;
using Docker.DotNet.Models;
using Version = System.Version;

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

public enum LogStream { StdOut = 1, StdErr = 2 }

public sealed record ContainerLogLine(LogStream Stream, string Text)
{
    public override string ToString() => Text;
}

/// <summary>
/// A thin façade over Docker.DotNet's <see cref="IDockerClient"/>. Docker.DotNet does the HTTP, the unix socket and the
/// models; this adds what the build needs on top: the API version negotiated with the engine, one-line errors, and
/// the errors that arrive inside build, push, pull and import streams (the engine answers 200 on a failed push).
/// Everything else is <see cref="ConnectAsync"/> and Docker.DotNet itself, wrapped in <see cref="CallAsync{T}"/>.
/// </summary>
public sealed partial class DockerEngineClient : IDisposable
{
    /// <summary>The oldest Engine API the build works with (Debian's docker.io 20.10).</summary>
    public static readonly Version MinimumApiVersion = new(1, 41);
    /// <summary>The newest Engine API Docker.DotNet.Enhanced 4.3 was generated from (Docker 29).</summary>
    public static readonly Version MaximumApiVersion = new(1, 52);

    readonly SemaphoreSlim connecting = new(1, 1);
    DockerClient? client;

    public DockerEngineClient(DockerEndpoint? endpoint = null) => Endpoint = endpoint ?? DockerEndpoint.FromEnvironment();

    public DockerEndpoint Endpoint { get; }

    /// <summary>The API version agreed with the engine; null until <see cref="ConnectAsync"/> succeeded.</summary>
    public Version? ApiVersion { get; private set; }

    public void Dispose()
    {
        client?.Dispose();
        connecting.Dispose();
    }

    /// <summary>
    /// The Docker.DotNet client, speaking the newest API version both sides know (as the docker CLI negotiates):
    /// the engine's own version capped at <see cref="MaximumApiVersion"/>. An engine older than
    /// <see cref="MinimumApiVersion"/> or one that does not answer fails in one line.
    /// </summary>
    public async Task<IDockerClient> ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (client is not null) return client;
        await connecting.WaitAsync(cancellationToken);
        try
        {
            if (client is not null) return client;
            using var unversioned = Build(apiVersion: null);
            var engine = await Guard("version", () => unversioned.System.GetVersionAsync(cancellationToken), cancellationToken);
            ApiVersion = NegotiateApiVersion(engine.APIVersion, $"Docker Engine {engine.Version} at {Endpoint}");
            return client = Build(ApiVersion);
        }
        finally
        {
            connecting.Release();
        }
    }

    /// <summary>The engine's API version capped at <see cref="MaximumApiVersion"/>; one line naming
    /// <paramref name="engine"/> when it is older than <see cref="MinimumApiVersion"/> or not a version.</summary>
    public static Version NegotiateApiVersion(string engineApiVersion, string engine)
    {
        if (!Version.TryParse(engineApiVersion, out var offered))
            throw new DeliveryException($"{engine} reports API version '{engineApiVersion}', which is not a version");
        if (offered < MinimumApiVersion)
            throw new DeliveryException($"{engine} speaks API {engineApiVersion}; API {MinimumApiVersion} or newer is needed");
        return offered < MaximumApiVersion ? offered : MaximumApiVersion;
    }

    DockerClient Build(Version? apiVersion) =>
        new DockerClientBuilder().WithEndpoint(Endpoint.Uri).WithApiVersion(apiVersion).Build();

    /// <summary>Runs one Docker.DotNet call with this client's one-line errors.</summary>
    public async Task<T> CallAsync<T>(string operation, Func<IDockerClient, Task<T>> call, CancellationToken cancellationToken = default)
    {
        var api = await ConnectAsync(cancellationToken);
        return await Guard(operation, () => call(api), cancellationToken);
    }

    /// <inheritdoc cref="CallAsync{T}"/>
    public Task CallAsync(string operation, Func<IDockerClient, Task> call, CancellationToken cancellationToken = default) =>
        CallAsync(operation, async api => { await call(api); return true; }, cancellationToken);

    // ---------------------------------------------------------------- system

    /// <summary>Throws a one-line <see cref="DeliveryException"/> when the engine does not answer.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        // Unversioned: the engine may not be reachable yet, so nothing is negotiated.
        using var unversioned = Build(apiVersion: null);
        await Guard("ping", async () => { await unversioned.System.PingAsync(cancellationToken); return true; }, cancellationToken);
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

    public Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default) =>
        CallAsync("version", api => api.System.GetVersionAsync(cancellationToken), cancellationToken);

    // ---------------------------------------------------------------- images

    /// <summary>The image, or null when no such image exists.</summary>
    public async Task<ImageInspectResponse?> InspectImageAsync(string image, CancellationToken cancellationToken = default)
    {
        try
        {
            return await CallAsync($"inspect image {image}", api => api.Images.InspectImageAsync(image, cancellationToken), cancellationToken);
        }
        catch (DockerEngineException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Builds from a build context; the Dockerfile name comes from the context.</summary>
    public Task<string> BuildImageAsync(BuildContext context, ImageBuildParameters parameters, Action<string>? onOutput = null, CancellationToken cancellationToken = default)
    {
        parameters.Dockerfile = context.DockerfileName;
        return BuildImageAsync(context.OpenRead(), parameters, onOutput, cancellationToken);
    }

    /// <summary>
    /// Builds an image from a tar build context. Each output line goes to <paramref name="onOutput"/>. Returns the
    /// image id (sha256:…). A failing step, reported inside the stream, throws <see cref="DockerBuildException"/>.
    /// </summary>
    public async Task<string> BuildImageAsync(Stream tarContext, ImageBuildParameters parameters, Action<string>? onOutput = null, CancellationToken cancellationToken = default)
    {
        parameters.Remove ??= true;
        parameters.ForceRemove ??= true;
        var transcript = new BuildTranscript(onOutput);
        string? imageId = null;
        string? error = null;
        var messages = new Messages(message =>
        {
            if (error is not null) return;
            if (message.Stream is not null) transcript.Append(message.Stream);
            else if (message.Status is not null && message.Progress?.Current is null)
                transcript.Append((message.ID is null ? "" : message.ID + ": ") + message.Status + "\n");
            imageId = AuxString(message, "ID") ?? imageId;
            error = message.Error?.Message;
        });
        await CallAsync("image build", api => api.Images.BuildImageFromDockerfileAsync(parameters, tarContext, null, null, messages, cancellationToken), cancellationToken);
        transcript.Flush();
        if (error is not null) throw new DockerBuildException(transcript.CurrentStep, error.Trim(), transcript.CurrentStepOutput);
        imageId ??= transcript.SuccessfullyBuiltId;
        if (imageId is null)
            throw new DeliveryException($"Docker build ended without an image id; last output: {transcript.LastLine ?? "(none)"}");
        return imageId;
    }

    /// <summary>
    /// Pushes repository:tag and returns the manifest digest the registry stored (sha256:…). Registry errors arrive
    /// inside the stream even on HTTP 200; they become a one-line <see cref="DeliveryException"/> naming the registry.
    /// <paramref name="progress"/> sees every message: layer id, status ("Pushing", "Pushed", "Layer already exists"),
    /// and byte counts.
    /// </summary>
    public async Task<string> PushImageAsync(string repository, string tag, RegistryAuth? auth = null, Action<JSONMessage>? progress = null, CancellationToken cancellationToken = default)
    {
        var registry = ImageReference.RegistryOf(repository);
        var what = $"push of {repository}:{tag}";
        string? digest = null;
        string? error = null;
        var messages = new Messages(message =>
        {
            if (error is not null) return;
            error = message.Error?.Message;
            digest ??= AuxString(message, "Digest");
            if (message.Status is { } status)
            {
                if (digest is null && DigestInStatus().Match(status) is { Success: true } m) digest = m.Groups[1].Value;
                progress?.Invoke(message);
            }
        });
        await CallAsync(what, api => api.Images.PushImageAsync($"{repository}:{tag}", new ImagePushParameters { Tag = tag }, ToAuthConfig(auth), messages, cancellationToken), cancellationToken);
        if (error is not null) throw RegistryFailure(what, registry, error);
        return digest ?? throw new DeliveryException($"Docker Engine: {what} to registry {registry} ended without reporting a digest");
    }

    /// <summary>Pulls repository:tag; returns the digest the engine reports (or null when it does not say).</summary>
    public async Task<string?> PullImageAsync(string repository, string tag, RegistryAuth? auth = null, Action<JSONMessage>? progress = null, CancellationToken cancellationToken = default)
    {
        var registry = ImageReference.RegistryOf(repository);
        var what = $"pull of {repository}:{tag}";
        string? digest = null;
        string? error = null;
        var messages = new Messages(message =>
        {
            if (error is not null) return;
            error = message.Error?.Message;
            if (message.Status is { } status)
            {
                if (DigestInStatus().Match(status) is { Success: true } m) digest = m.Groups[1].Value;
                progress?.Invoke(message);
            }
        });
        try
        {
            await CallAsync(what, api => api.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, ToAuthConfig(auth), messages, cancellationToken), cancellationToken);
        }
        catch (DockerEngineException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.InternalServerError)
        {
            throw RegistryFailure(what, registry, e.EngineMessage);
        }
        if (error is not null) throw RegistryFailure(what, registry, error);
        return digest;
    }

    /// <summary>
    /// Creates an image from a root filesystem tar (docker import), applying Dockerfile-style
    /// <paramref name="changes"/> such as "ENV PATH=…". Returns the new image id.
    /// </summary>
    public async Task<string> ImportImageAsync(Stream rootFilesystemTar, string repository, string tag, IEnumerable<string>? changes = null, CancellationToken cancellationToken = default)
    {
        var what = $"import of {repository}:{tag}";
        string? id = null;
        string? error = null;
        var messages = new Messages(message =>
        {
            error ??= message.Error?.Message;
            if (message.Status is { } status && status.StartsWith("sha256:", StringComparison.Ordinal)) id = status.Trim();
        });
        var parameters = new ImagesCreateParameters { Repo = repository, Tag = tag, Changes = changes?.ToList() };
        await CallAsync(what, api => api.Images.CreateImageAsync(parameters, rootFilesystemTar, null, messages, cancellationToken), cancellationToken);
        if (error is not null) throw new DeliveryException($"Docker Engine: {what} failed: {error}");
        return id ?? throw new DeliveryException($"Docker Engine: {what} ended without an image id");
    }

    /// <summary>As above, with the tar written by <paramref name="writeTar"/> straight into the request body
    /// through a pipe: no temporary file, whatever the image's size.</summary>
    public async Task<string> ImportImageAsync(Func<Stream, CancellationToken, Task> writeTar, string repository, string tag, IEnumerable<string>? changes = null, CancellationToken cancellationToken = default)
    {
        var pipe = new Pipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writing = Task.Run(async () =>
        {
            await using var writer = pipe.Writer.AsStream();
            try
            {
                await writeTar(writer, stop.Token);
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e);
                throw;
            }
        }, stop.Token);
        try
        {
            await using var reader = pipe.Reader.AsStream();
            var id = await ImportImageAsync(reader, repository, tag, changes, cancellationToken);
            await writing;
            return id;
        }
        catch
        {
            await stop.CancelAsync();
            // A failed writer explains a failed import better than the import's own error.
            try { await writing; } catch (OperationCanceledException) { }
            throw;
        }
    }

    // ---------------------------------------------------------------- containers

    /// <summary>The last <paramref name="tail"/> lines of stdout and stderr, in the order the engine sent them.</summary>
    public Task<IReadOnlyList<ContainerLogLine>> GetContainerLogsAsync(string container, int tail = 100, CancellationToken cancellationToken = default) =>
        CallAsync<IReadOnlyList<ContainerLogLine>>($"logs of container {container}", async api =>
        {
            using var stream = await api.Containers.GetContainerLogsAsync(container,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = tail.ToString() }, cancellationToken);
            var lines = new List<ContainerLogLine>();
            var pending = new Dictionary<LogStream, StringBuilder> { [LogStream.StdOut] = new(), [LogStream.StdErr] = new() };
            var decoders = new Dictionary<LogStream, Decoder> { [LogStream.StdOut] = Encoding.UTF8.GetDecoder(), [LogStream.StdErr] = Encoding.UTF8.GetDecoder() };
            var buffer = new byte[8192];
            var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
            while (await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken) is { EOF: false } read)
            {
                var kind = read.Target == MultiplexedStream.TargetStream.StandardError ? LogStream.StdErr : LogStream.StdOut;
                var text = pending[kind].Append(chars, 0, decoders[kind].GetChars(buffer, 0, read.Count, chars, 0));
                var all = text.ToString();
                var start = 0;
                for (int newline; (newline = all.IndexOf('\n', start)) >= 0; start = newline + 1)
                    lines.Add(new ContainerLogLine(kind, all[start..newline].TrimEnd('\r')));
                text.Clear().Append(all, start, all.Length - start);
            }
            foreach (var (kind, rest) in pending)
                if (rest.Length > 0) lines.Add(new ContainerLogLine(kind, rest.ToString().TrimEnd('\r')));
            return lines;
        }, cancellationToken);

    // ---------------------------------------------------------------- plumbing

    async Task<T> Guard<T>(string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (DockerApiException e)
        {
            throw new DockerEngineException(operation, e.StatusCode, EngineMessage(e.ResponseBody, e.StatusCode));
        }
        // The TCP transport reports a refused connection as an AggregateException around the SocketException.
        catch (Exception e) when (IsTransportFailure(e) || e is AggregateException { InnerException: { } inner } && IsTransportFailure(inner))
        {
            throw new DeliveryException($"Docker Engine is not reachable at {Endpoint} ({operation}): {Innermost(e)}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeliveryException($"Docker Engine at {Endpoint} did not answer ({operation}): timed out", e);
        }
    }

    static bool IsTransportFailure(Exception e) => e is HttpRequestException or IOException or System.Net.Sockets.SocketException;

    static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex.Message;
    }

    /// <summary>The engine's {"message": "..."}, else its body, else the status.</summary>
    static string EngineMessage(string? body, HttpStatusCode status)
    {
        if (string.IsNullOrWhiteSpace(body)) return status.ToString();
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("message", out var m) &&
                m.GetString() is { Length: > 0 } message)
                return message.Trim();
        }
        catch (JsonException)
        {
        }
        return body.Trim();
    }

    static string? AuxString(JSONMessage message, string name) =>
        message.Aux?.ExtensionData is { } aux && aux.TryGetValue(name, out var value) && value is JsonElement { ValueKind: JsonValueKind.String } s
            ? s.GetString()
            : null;

    /// <summary>The credentials as Docker.DotNet sends them; an empty config (<c>{}</c>) when anonymous, which the
    /// engine still requires on push.</summary>
    static AuthConfig ToAuthConfig(RegistryAuth? auth) =>
        auth is null || auth.IsAnonymous
            ? new AuthConfig()
            : new AuthConfig { Username = auth.Username, Password = auth.Password, ServerAddress = auth.ServerAddress };

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

    /// <summary>Handles each streamed message on the reading thread (<see cref="Progress{T}"/> would post them later).</summary>
    sealed class Messages(Action<JSONMessage> handle) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => handle(value);
    }
}
