using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aws.TestEndpoint;

/// <summary>
/// An AWS-compatible endpoint for tests: real Kestrel on 127.0.0.1 and a free port, the AWS JSON 1.1 protocol, SigV4
/// checked on every request. SSM Run Command runs the commands with bash on this machine; Parameter Store is in
/// memory; ECR hands out a login with a configurable password. Serves SSM and ECR on the same port.
/// </summary>
public sealed class AwsTestEndpoint : IAsyncDisposable
{
    public const string AccessKey = "AKIATESTENDPOINT0001";
    public const string SecretKey = "tEsTsEcReT/kEy+0001/NotARealAwsSecretKeyAtAll";
    public const string Account = "123456789012";

    const string SsmPrefix = "AmazonSSM.";
    const string EcrPrefix = "AmazonEC2ContainerRegistry_V20150921.";

    readonly WebApplication app;
    readonly SignatureVerifier verifier;
    readonly ConcurrentQueue<string> received = new();
    readonly ConcurrentDictionary<string, IReadOnlyList<RunCommandInvocation>> commands = new();
    readonly Dictionary<string, StoredParameter> parameters = new(StringComparer.Ordinal);
    int throttleNext;
    int failNext;

    AwsTestEndpoint(WebApplication app, string region, IReadOnlyDictionary<string, string> secretKeys)
    {
        this.app = app;
        Region = region;
        Ecr = new EcrApi(Account, region);
        verifier = new SignatureVerifier(secretKeys, region);
    }

    public string Region { get; }
    public Uri Url { get; private set; } = null!;

    /// <summary>The instance ids SendCommand accepts; others give InvalidInstanceId.</summary>
    public ISet<string> Instances { get; } = new HashSet<string>(StringComparer.Ordinal) { "i-0123456789abcdef0" };

    /// <summary>How many GetCommandInvocation calls for a new command answer InvocationDoesNotExist.</summary>
    public int InvocationNotVisibleFor { get; set; } = 2;

    public string EcrUsername { get; set; } = "AWS";
    public string EcrPassword { get; set; } = "ecr-test-password";
    /// <summary>ECR repositories and images (backed by a real registry).</summary>
    public EcrApi Ecr { get; }

    public Uri EcrProxyEndpoint => new($"https://{Account}.dkr.ecr.{Region}.amazonaws.com");

    /// <summary>Every request that passed the signature check, as "Service.Operation" (throttled ones included).</summary>
    public IReadOnlyList<string> Received => received.ToArray();

    /// <summary>The next <paramref name="count"/> signed requests answer ThrottlingException.</summary>
    public void ThrottleNext(int count) => Interlocked.Exchange(ref throttleNext, count);

    /// <summary>The next <paramref name="count"/> signed requests answer HTTP 500 InternalServerError, without running.</summary>
    public void FailNext(int count) => Interlocked.Exchange(ref failNext, count);

    public static async Task<AwsTestEndpoint> StartAsync(string region = "eu-west-1", IReadOnlyDictionary<string, string>? secretKeys = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var endpoint = new AwsTestEndpoint(app, region, secretKeys ?? new Dictionary<string, string> { [AccessKey] = SecretKey });
        app.Run(endpoint.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return endpoint;
    }

    async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        var service = target.StartsWith(SsmPrefix, StringComparison.Ordinal) ? "ssm"
            : target.StartsWith(EcrPrefix, StringComparison.Ordinal) ? "ecr"
            : null;

        if (verifier.Verify(context.Request, body, service) is { } refused)
        {
            await Error(context, refused.Status, refused.Code, refused.Message);
            return;
        }
        received.Enqueue(target);

        if (Take(ref throttleNext))
        {
            await Error(context, 400, "ThrottlingException", "Rate exceeded");
            return;
        }
        if (Take(ref failNext))
        {
            await Error(context, 500, "InternalServerError", "Internal error (test endpoint was told to fail)");
            return;
        }

        if (context.Request.Method != "POST" || context.Request.Path != "/"
            || context.Request.ContentType != "application/x-amz-json-1.1")
        {
            await Error(context, 400, "SerializationException", "Expected POST / with Content-Type application/x-amz-json-1.1.");
            return;
        }

        JsonElement request;
        try
        {
            using var document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
            request = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            await Error(context, 400, "SerializationException", "The request body is not JSON.");
            return;
        }

        try
        {
            if (target.StartsWith(EcrPrefix, StringComparison.Ordinal) && await Ecr.HandleAsync(target[EcrPrefix.Length..], request) is { } ecrAnswer)
            {
                context.Response.ContentType = "application/x-amz-json-1.1";
                await context.Response.WriteAsync(ecrAnswer.ToJsonString());
                return;
            }
            JsonObject answer = target switch
            {
                SsmPrefix + "SendCommand" => SendCommand(request),
                SsmPrefix + "GetCommandInvocation" => GetCommandInvocation(request),
                SsmPrefix + "CancelCommand" => CancelCommand(request),
                SsmPrefix + "PutParameter" => PutParameter(request),
                SsmPrefix + "GetParametersByPath" => GetParametersByPath(request),
                EcrPrefix + "GetAuthorizationToken" => GetAuthorizationToken(),
                _ => throw new AwsError("UnknownOperationException", $"Unknown operation '{target}'."),
            };
            context.Response.ContentType = "application/x-amz-json-1.1";
            await context.Response.WriteAsync(answer.ToJsonString());
        }
        catch (AwsError error)
        {
            await Error(context, 400, error.Code, error.Message);
        }
        catch (EcrApi.EcrError error)
        {
            await Error(context, 400, error.Code, error.Message);
        }
    }

    static bool Take(ref int counter)
    {
        while (true)
        {
            var left = Volatile.Read(ref counter);
            if (left <= 0) return false;
            if (Interlocked.CompareExchange(ref counter, left - 1, left) == left) return true;
        }
    }

    /// <summary>The invocations SendCommand created, with their current status.</summary>
    public IReadOnlyList<(string CommandId, string InstanceId, string Status)> Invocations =>
        commands.Values.SelectMany(i => i).Select(i => { lock (i.Gate) return (i.CommandId, i.InstanceId, i.Status); }).ToList();

    JsonObject SendCommand(JsonElement request)
    {
        var document = Text(request, "DocumentName");
        if (document != "AWS-RunShellScript")
            throw new AwsError("InvalidDocument", $"Document {document} does not exist in your account.");
        var instanceIds = Strings(request, "InstanceIds");
        if (instanceIds.Count == 0) throw new AwsError("InvalidInstanceId", "No instance ids given.");
        var unknown = instanceIds.Where(i => !Instances.Contains(i)).ToList();
        if (unknown.Count > 0)
            throw new AwsError("InvalidInstanceId", $"Instances [{string.Join(", ", unknown)}] not in a valid state for account {Account}");
        if (!request.TryGetProperty("Parameters", out var parameters) || Strings(parameters, "commands") is not { Count: > 0 } lines)
            throw new AwsError("InvalidParameters", "Parameter \"commands\" is required.");
        var executionTimeout = Strings(parameters, "executionTimeout") is [var t] && int.TryParse(t, out var seconds) ? seconds : 3600;

        var commandId = Guid.NewGuid().ToString();
        var comment = Text(request, "Comment") ?? "";
        var invocations = instanceIds
            .Select(i => new RunCommandInvocation(commandId, i, comment) { NotYetVisible = InvocationNotVisibleFor })
            .ToList();
        commands[commandId] = invocations;
        foreach (var invocation in invocations) invocation.Start(lines, executionTimeout);

        return new JsonObject
        {
            ["Command"] = new JsonObject
            {
                ["CommandId"] = commandId,
                ["DocumentName"] = document,
                ["Comment"] = comment,
                ["InstanceIds"] = new JsonArray(instanceIds.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray()),
                ["Status"] = "Pending",
                ["RequestedDateTime"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
                ["TimeoutSeconds"] = request.TryGetProperty("TimeoutSeconds", out var ts) && ts.ValueKind == JsonValueKind.Number ? ts.GetInt32() : 3600,
            },
        };
    }

    JsonObject GetCommandInvocation(JsonElement request)
    {
        var commandId = Text(request, "CommandId") ?? "";
        var instanceId = Text(request, "InstanceId") ?? "";
        var invocation = commands.TryGetValue(commandId, out var all) ? all.FirstOrDefault(i => i.InstanceId == instanceId) : null;
        if (invocation is null) throw new AwsError("InvocationDoesNotExist", "");
        lock (invocation.Gate)
        {
            if (invocation.NotYetVisible > 0)
            {
                invocation.NotYetVisible--;
                throw new AwsError("InvocationDoesNotExist", "");
            }
            return new JsonObject
            {
                ["CommandId"] = invocation.CommandId,
                ["InstanceId"] = invocation.InstanceId,
                ["Comment"] = invocation.Comment,
                ["DocumentName"] = "AWS-RunShellScript",
                ["PluginName"] = "aws:runShellScript",
                ["Status"] = invocation.Status,
                ["StatusDetails"] = invocation.StatusDetails,
                ["ResponseCode"] = invocation.ResponseCode,
                ["ExecutionStartDateTime"] = invocation.Started?.ToString("O") ?? "",
                ["ExecutionEndDateTime"] = invocation.Ended?.ToString("O") ?? "",
                // SSM shows output only once the command has ended.
                ["StandardOutputContent"] = invocation.IsTerminal ? invocation.StandardOutput : "",
                ["StandardErrorContent"] = invocation.IsTerminal ? invocation.StandardError : "",
                ["StandardOutputUrl"] = "",
                ["StandardErrorUrl"] = "",
            };
        }
    }

    JsonObject CancelCommand(JsonElement request)
    {
        var commandId = Text(request, "CommandId") ?? "";
        if (!commands.TryGetValue(commandId, out var invocations)) throw new AwsError("InvalidCommandId", "");
        var instanceIds = Strings(request, "InstanceIds");
        foreach (var invocation in invocations.Where(i => instanceIds.Count == 0 || instanceIds.Contains(i.InstanceId)))
            invocation.Cancel();
        return [];
    }

    JsonObject PutParameter(JsonElement request)
    {
        var name = Text(request, "Name") ?? throw new AwsError("ValidationException", "Name is required.");
        var value = Text(request, "Value") ?? throw new AwsError("ValidationException", "Value is required.");
        var type = Text(request, "Type") ?? "String";
        var overwrite = request.TryGetProperty("Overwrite", out var o) && o.ValueKind == JsonValueKind.True;
        lock (parameters)
        {
            if (parameters.TryGetValue(name, out var existing) && !overwrite)
                throw new AwsError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
            var version = (existing?.Version ?? 0) + 1;
            parameters[name] = new StoredParameter(name, value, type, version, DateTimeOffset.UtcNow);
            return new JsonObject { ["Version"] = version, ["Tier"] = "Standard" };
        }
    }

    JsonObject GetParametersByPath(JsonElement request)
    {
        var path = Text(request, "Path") ?? throw new AwsError("ValidationException", "Path is required.");
        var recursive = request.TryGetProperty("Recursive", out var r) && r.ValueKind == JsonValueKind.True;
        var max = request.TryGetProperty("MaxResults", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 10;
        var start = int.TryParse(Text(request, "NextToken"), out var token) ? token : 0;
        var prefix = path.EndsWith('/') ? path : path + "/";
        List<StoredParameter> matching;
        lock (parameters)
            matching = parameters.Values
                .Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal) && (recursive || !p.Name[prefix.Length..].Contains('/')))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ToList();
        var page = matching.Skip(start).Take(max).ToList();
        var answer = new JsonObject
        {
            ["Parameters"] = new JsonArray(page.Select(p => (JsonNode?)new JsonObject
            {
                ["Name"] = p.Name,
                ["Type"] = p.Type,
                ["Value"] = p.Value,
                ["Version"] = p.Version,
                ["LastModifiedDate"] = p.Modified.ToUnixTimeMilliseconds() / 1000.0,
                ["ARN"] = $"arn:aws:ssm:{Region}:{Account}:parameter{p.Name}",
                ["DataType"] = "text",
            }).ToArray()),
        };
        if (start + page.Count < matching.Count) answer["NextToken"] = (start + page.Count).ToString();
        return answer;
    }

    JsonObject GetAuthorizationToken() => new()
    {
        ["authorizationData"] = new JsonArray(new JsonObject
        {
            ["authorizationToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{EcrUsername}:{EcrPassword}")),
            ["expiresAt"] = DateTimeOffset.UtcNow.AddHours(12).ToUnixTimeSeconds(),
            ["proxyEndpoint"] = EcrProxyEndpoint.ToString().TrimEnd('/'),
        }),
    };

    static async Task Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        var error = new JsonObject { ["__type"] = code };
        if (message.Length > 0) error["message"] = message;
        await context.Response.WriteAsync(error.ToJsonString());
    }

    static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    static List<string> Strings(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : [];

    public async ValueTask DisposeAsync()
    {
        foreach (var invocation in commands.Values.SelectMany(i => i)) invocation.Cancel();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    sealed record StoredParameter(string Name, string Value, string Type, long Version, DateTimeOffset Modified);

    sealed class AwsError(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}
