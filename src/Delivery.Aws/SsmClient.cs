using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Delivery.Aws;

/// <summary>A shell command for <see cref="SsmClient.SendCommandAsync"/>.</summary>
public sealed record SsmCommand
{
    public required IReadOnlyList<string> InstanceIds { get; init; }

    /// <summary>The lines of the shell script (AWS-RunShellScript's "commands" parameter).</summary>
    public required IReadOnlyList<string> Commands { get; init; }

    public string DocumentName { get; init; } = "AWS-RunShellScript";

    /// <summary>How long SSM may take to deliver the command (SendCommand's TimeoutSeconds; AWS accepts 30 to 2592000).</summary>
    public int? DeliveryTimeoutSeconds { get; init; }

    /// <summary>How long the script may run before the agent stops it (AWS-RunShellScript's "executionTimeout").</summary>
    public int? ExecutionTimeoutSeconds { get; init; }

    /// <summary>Shown in the console; AWS allows 100 characters, longer ones are cut.</summary>
    public string? Comment { get; init; }
}

/// <summary>One command on one instance, as GetCommandInvocation reports it.</summary>
/// <param name="Status">Pending, InProgress, Delayed, Success, Cancelled, TimedOut, Failed or Cancelling.</param>
/// <param name="ResponseCode">The script's exit code; -1 while it has not run (or never ran).</param>
/// <param name="StandardOutputContent">The first 24,000 characters of stdout; empty until the command ends.</param>
/// <param name="StandardErrorContent">The first 8,000 characters of stderr.</param>
public sealed record SsmInvocation(
    string CommandId, string InstanceId, string Status, string StatusDetails, int ResponseCode,
    string StandardOutputContent, string StandardErrorContent)
{
    public static readonly IReadOnlySet<string> TerminalStatuses = new HashSet<string>(StringComparer.Ordinal)
    {
        "Success", "Cancelled", "TimedOut", "Failed",
    };

    public bool IsTerminal => TerminalStatuses.Contains(Status);
}

/// <summary>A Parameter Store entry.</summary>
public sealed record SsmParameter(string Name, string Value, string Type, long Version, DateTimeOffset? LastModified);

/// <summary>The parts of the SSM API that deploys use: Run Command and Parameter Store.</summary>
public sealed class SsmClient : IDisposable
{
    readonly AwsJsonClient client;

    public SsmClient(AwsSettings settings) => client = new AwsJsonClient(AwsService.Ssm, settings, settings.SsmEndpoint);

    public Uri Endpoint => client.Endpoint;

    /// <summary>Sends the command and returns its command id. Retried only when throttled: a retry after a 5xx or a
    /// lost answer could run the script twice.</summary>
    public async Task<string> SendCommandAsync(SsmCommand command, CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject { ["commands"] = Strings(command.Commands) };
        if (command.ExecutionTimeoutSeconds is { } execution)
            parameters["executionTimeout"] = new JsonArray(execution.ToString(CultureInfo.InvariantCulture));
        var request = new JsonObject
        {
            ["DocumentName"] = command.DocumentName,
            ["InstanceIds"] = Strings(command.InstanceIds),
            ["Parameters"] = parameters,
        };
        if (command.DeliveryTimeoutSeconds is { } delivery) request["TimeoutSeconds"] = delivery;
        if (command.Comment is { Length: > 0 } comment) request["Comment"] = comment.Length <= 100 ? comment : comment[..100];

        var response = await client.SendAsync("SendCommand", request, cancellationToken, idempotent: false);
        return response.TryGetProperty("Command", out var sent) && Text(sent, "CommandId") is { Length: > 0 } id
            ? id
            : throw new AwsException(AwsService.Ssm, "SendCommand", 200, "InvalidResponse", "the response has no Command.CommandId");
    }

    public async Task<SsmInvocation> GetCommandInvocationAsync(string commandId, string instanceId, CancellationToken cancellationToken = default)
    {
        var response = await client.SendAsync("GetCommandInvocation", new JsonObject
        {
            ["CommandId"] = commandId,
            ["InstanceId"] = instanceId,
        }, cancellationToken);
        return new SsmInvocation(
            Text(response, "CommandId") ?? commandId,
            Text(response, "InstanceId") ?? instanceId,
            Text(response, "Status") ?? "",
            Text(response, "StatusDetails") ?? "",
            response.TryGetProperty("ResponseCode", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : -1,
            Text(response, "StandardOutputContent") ?? "",
            Text(response, "StandardErrorContent") ?? "");
    }

    /// <summary>Asks the agent to stop the command; SSM answers before the command has stopped.</summary>
    public Task CancelCommandAsync(string commandId, IReadOnlyList<string>? instanceIds = null, CancellationToken cancellationToken = default)
    {
        var request = new JsonObject { ["CommandId"] = commandId };
        if (instanceIds is { Count: > 0 }) request["InstanceIds"] = Strings(instanceIds);
        return client.SendAsync("CancelCommand", request, cancellationToken);
    }

    /// <summary>Writes a parameter and returns its new version.</summary>
    public async Task<long> PutParameterAsync(
        string name, string value, string type = "String", bool overwrite = false, CancellationToken cancellationToken = default)
    {
        var response = await client.SendAsync("PutParameter", new JsonObject
        {
            ["Name"] = name,
            ["Value"] = value,
            ["Type"] = type,
            ["Overwrite"] = overwrite,
        }, cancellationToken);
        return response.TryGetProperty("Version", out var version) && version.ValueKind == JsonValueKind.Number ? version.GetInt64() : 0;
    }

    /// <summary>Every parameter under <paramref name="path"/>, following NextToken across pages.</summary>
    public async Task<IReadOnlyList<SsmParameter>> GetParametersByPathAsync(
        string path, bool recursive = true, bool withDecryption = false, CancellationToken cancellationToken = default)
    {
        var parameters = new List<SsmParameter>();
        string? nextToken = null;
        do
        {
            var request = new JsonObject
            {
                ["Path"] = path,
                ["Recursive"] = recursive,
                ["WithDecryption"] = withDecryption,
            };
            if (nextToken is not null) request["NextToken"] = nextToken;
            var response = await client.SendAsync("GetParametersByPath", request, cancellationToken);
            if (response.TryGetProperty("Parameters", out var page) && page.ValueKind == JsonValueKind.Array)
                foreach (var p in page.EnumerateArray())
                    parameters.Add(new SsmParameter(
                        Text(p, "Name") ?? "",
                        Text(p, "Value") ?? "",
                        Text(p, "Type") ?? "String",
                        p.TryGetProperty("Version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0,
                        p.TryGetProperty("LastModifiedDate", out var d) && d.ValueKind == JsonValueKind.Number
                            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(d.GetDouble() * 1000))
                            : null));
            nextToken = Text(response, "NextToken");
        } while (!string.IsNullOrEmpty(nextToken));
        return parameters;
    }

    public void Dispose() => client.Dispose();

    static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    internal static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
