using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Aws.TestEndpoint.RequestFields;

namespace Aws.TestEndpoint;

/// <summary>SSM on the test endpoint: Run Command across fake instances (InstanceIds or tag Targets, MaxConcurrency
/// and MaxErrors honoured), and Parameter Store with version history.</summary>
public sealed partial class AwsTestEndpoint
{
    /// <summary>SSM documents, their parameters included, are limited to 64 KB.</summary>
    public const int MaxCommandBytes = 64 * 1024;

    /// <summary>ListCommandInvocations (Details) carries the first 2,500 characters of each plugin's output.</summary>
    public const int ListOutputLimit = 2_500;

    readonly ConcurrentDictionary<string, RunCommand> commands = new();
    readonly ConcurrentDictionary<string, FakeInstance> instances = new(StringComparer.Ordinal);
    readonly ConcurrentQueue<string> commandTexts = new();
    readonly Dictionary<string, List<StoredParameter>> parameters = new(StringComparer.Ordinal);

    /// <summary>Access keys that are temporary: each needs this session token in X-Amz-Security-Token.</summary>
    public ConcurrentDictionary<string, string> SessionTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Session tokens that have expired (ExpiredTokenException).</summary>
    public ConcurrentDictionary<string, bool> ExpiredSessionTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>The managed instances SendCommand knows; others give InvalidInstanceId.</summary>
    public IReadOnlyDictionary<string, FakeInstance> Instances => instances;

    public FakeInstance AddInstance(string id)
    {
        var instance = new FakeInstance(id);
        instances[id] = instance;
        return instance;
    }

    /// <summary>What DeleteParameter would do: the parameter and its history are gone.</summary>
    public void RemoveParameter(string name)
    {
        lock (parameters) parameters.Remove(name);
    }

    /// <summary>Every command text (the "commands" parameter) SendCommand received, for secret scans.</summary>
    public IReadOnlyList<string> CommandTexts => commandTexts.ToArray();

    /// <summary>The invocations SendCommand created, with their current status.</summary>
    public IReadOnlyList<(string CommandId, string InstanceId, string Status)> Invocations =>
        commands.Values.OrderBy(c => c.Requested).SelectMany(c => c.Invocations)
            .Select(i => { lock (i.Gate) return (i.CommandId, i.InstanceId, i.Status); }).ToList();

    /// <summary>The PATH the agent's commands get (a systemd service's default); a test that puts a tool in front
    /// of it sets PATH in <see cref="FakeInstance.Environment"/>.</summary>
    public static string AgentPath => RunCommandInvocation.AgentEnvironment["PATH"];

    /// <summary>What CancelCommand does (as an operator would from the console): pending invocations end Cancelled,
    /// running ones are SIGKILLed with their process group.</summary>
    public void CancelCommand(string commandId)
    {
        if (commands.TryGetValue(commandId, out var command))
            foreach (var invocation in command.Invocations) invocation.Cancel();
    }

    /// <summary>An invocation's captured stdout, as GetCommandInvocation gives it once the command has ended.</summary>
    public string Output(string commandId, string instanceId) =>
        commands.TryGetValue(commandId, out var c) && c.Invocations.FirstOrDefault(i => i.InstanceId == instanceId) is { } i
            ? i.StandardOutput : "";

    /// <summary>The executionTimeout the agent runs a command's script with (its default when the parameter was not valid).</summary>
    public int ExecutionTimeoutSeconds(string commandId) => commands.TryGetValue(commandId, out var c) ? c.ExecutionTimeoutSeconds : 0;

    /// <summary>The most invocations of one command that ran at the same time.</summary>
    public int MaxParallelInvocations(string commandId) => commands.TryGetValue(commandId, out var c) ? c.MaxParallelSeen : 0;

    JsonObject Ssm(string operation, JsonElement request, byte[] body) => operation switch
    {
        "SendCommand" => SendCommand(request, body.Length),
        "GetCommandInvocation" => GetCommandInvocation(request),
        "ListCommandInvocations" => ListCommandInvocations(request),
        "ListCommands" => ListCommands(request),
        "CancelCommand" => CancelCommand(request),
        "DescribeInstanceInformation" => DescribeInstanceInformation(request),
        "PutParameter" => PutParameter(request),
        "GetParameter" => GetParameter(request),
        "GetParameters" => GetParameters(request),
        "GetParameterHistory" => GetParameterHistory(request),
        "GetParametersByPath" => GetParametersByPath(request),
        "DeleteParameter" => DeleteParameter(request),
        _ => throw new AwsError("UnknownOperationException", $"Unknown operation 'AmazonSSM.{operation}'."),
    };

    JsonObject SendCommand(JsonElement request, int bodyBytes)
    {
        var document = Text(request, "DocumentName");
        if (document != "AWS-RunShellScript")
            throw new AwsError("InvalidDocument", $"Document {document} does not exist in your account.");
        if (!request.TryGetProperty("Parameters", out var parameters) || Strings(parameters, "commands") is not { Count: > 0 } lines)
            throw new AwsError("InvalidParameters", "Parameter \"commands\" is required.");
        var size = lines.Sum(l => Encoding.UTF8.GetByteCount(l) + 1);
        if (size > MaxCommandBytes)
            throw new AwsError("InvalidParameters", $"The parameters are {size} bytes; the maximum is {MaxCommandBytes} bytes.");
        foreach (var line in lines) commandTexts.Enqueue(line);

        var targeted = Targeted(request);
        // The agent takes executionTimeout 5..172800 and runs anything else with its default, 3600 (pluginutil.ValidateExecutionTimeout).
        var executionTimeout = Strings(parameters, "executionTimeout") is [var t] && int.TryParse(t, out var seconds) && seconds is >= 5 and <= 172_800 ? seconds : 3600;
        var commandId = Guid.NewGuid().ToString();
        var comment = Text(request, "Comment") ?? "";
        var invocations = targeted
            .Select(i => new RunCommandInvocation(commandId, i.Id, comment) { NotYetVisible = InvocationNotVisibleFor, Launcher = i.Launcher })
            .ToList();
        var rawConcurrency = Text(request, "MaxConcurrency") ?? "50";
        var rawErrors = Text(request, "MaxErrors") ?? "0";
        var timeoutSeconds = request.TryGetProperty("TimeoutSeconds", out var ts) && ts.ValueKind == JsonValueKind.Number ? ts.GetInt32() : 3600;
        if (timeoutSeconds is < 30 or > 2_592_000)
            throw new AwsError("ValidationException", $"1 validation error detected: Value '{timeoutSeconds}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between 30 and 2592000");
        var command = new RunCommand(commandId, invocations,
            Math.Max(1, RunCommand.Parse(rawConcurrency, invocations.Count, 50)), RunCommand.Parse(rawErrors, invocations.Count, 0))
        {
            RawMaxConcurrency = rawConcurrency, RawMaxErrors = rawErrors, TimeoutSeconds = timeoutSeconds, ExecutionTimeoutSeconds = executionTimeout,
        };
        commands[commandId] = command;
        command.Start(lines, invocation => instances[invocation.InstanceId].Online, invocation =>
        {
            var instance = instances[invocation.InstanceId];
            // executers.prepareEnvironment: the agent's own environment, the plugin's, then the AWS_SSM_ variables.
            return new Dictionary<string, string>(instance.Environment)
            {
                ["SSM_COMMAND_ID"] = commandId,
                ["AWS_SSM_INSTANCE_ID"] = invocation.InstanceId,
                ["AWS_SSM_REGION_NAME"] = Region,
                ["AWS_SSM_PLATFORM_NAME"] = instance.PlatformName,
                ["AWS_SSM_PLATFORM_VERSION"] = instance.PlatformVersion,
            };
        });

        return new JsonObject { ["Command"] = CommandJson(command, document!, comment) };
    }

    /// <summary>What IAM authorizes a request against: SendCommand's document and every instance it targets (with the
    /// instance's tags, for aws:ResourceTag and ssm:resourceTag conditions), a parameter's ARN, an ECR repository's
    /// ARN; "*" for the actions that have no resource-level permissions.</summary>
    IReadOnlyList<IamResource> IamResources(string service, string operation, JsonElement request)
    {
        IamResource Parameter(string? name) => new($"arn:aws:ssm:{Region}:{Account}:parameter{(name is { } n && !n.StartsWith('/') ? "/" + n : name)}");
        if (service == "ecr")
        {
            if (operation == "GetAuthorizationToken") return [new("*")];
            var registry = Text(request, "registryId") ?? Account;
            var names = Strings(request, "repositoryNames");
            if (Text(request, "repositoryName") is { } one) names.Add(one);
            return names.Count == 0 ? [new($"arn:aws:ecr:{Region}:{registry}:repository/*")]
                : names.Select(n => new IamResource($"arn:aws:ecr:{Region}:{registry}:repository/{n}")).ToList();
        }
        switch (operation)
        {
            case "SendCommand":
                var resources = new List<IamResource> { new($"arn:aws:ssm:{Region}::document/{Text(request, "DocumentName")}") };
                IEnumerable<FakeInstance> targeted;
                try { targeted = Targeted(request); }
                catch (AwsError) { targeted = Strings(request, "InstanceIds").Select(id => instances.TryGetValue(id, out var i) ? i : new FakeInstance(id)); }
                resources.AddRange(targeted.Select(i => new IamResource($"arn:aws:ec2:{Region}:{Account}:instance/{i.Id}", i.Tags)));
                return resources;
            case "GetParameter" or "PutParameter" or "GetParameterHistory" or "DeleteParameter":
                return [Parameter(Text(request, "Name"))];
            case "GetParameters":
                return Strings(request, "Names").Select(Parameter).ToList();
            case "GetParametersByPath":
                return [Parameter(Text(request, "Path"))];
            default:
                return [new("*")];
        }
    }

    /// <summary>InstanceIds, or Targets with one tag:Key (or InstanceIds) criterion; unmanaged or unknown ids are refused.</summary>
    List<FakeInstance> Targeted(JsonElement request)
    {
        var ids = Strings(request, "InstanceIds");
        if (ids.Count > 0)
        {
            var unknown = ids.Where(i => !instances.TryGetValue(i, out var fake) || !fake.Managed).ToList();
            if (unknown.Count > 0)
                throw new AwsError("InvalidInstanceId", $"Instances [{string.Join(", ", unknown)}] not in a valid state for account {Account}");
            return ids.Select(i => instances[i]).ToList();
        }
        if (!request.TryGetProperty("Targets", out var targets) || targets.ValueKind != JsonValueKind.Array || targets.GetArrayLength() == 0)
            throw new AwsError("ValidationException", "Either InstanceIds or Targets must be given.");
        IEnumerable<FakeInstance> matching = instances.Values.Where(i => i.Managed).OrderBy(i => i.Id, StringComparer.Ordinal);
        foreach (var target in targets.EnumerateArray())
        {
            var key = Text(target, "Key") ?? "";
            var values = Strings(target, "Values");
            if (key == "InstanceIds") matching = matching.Where(i => values.Contains(i.Id));
            else if (key.StartsWith("tag:", StringComparison.Ordinal))
                matching = matching.Where(i => i.Tags.TryGetValue(key[4..], out var v) && values.Contains(v));
            else throw new AwsError("InvalidTarget", $"Target key {key} is not supported.");
        }
        return matching.ToList();
    }

    static JsonObject CommandJson(RunCommand command, string document, string comment) => new()
    {
        ["CommandId"] = command.CommandId,
        ["DocumentName"] = document,
        ["Comment"] = comment,
        ["Status"] = command.Status,
        ["StatusDetails"] = command.Status,
        ["RequestedDateTime"] = command.Requested.ToUnixTimeMilliseconds() / 1000.0,
        ["TimeoutSeconds"] = command.TimeoutSeconds,
        ["MaxConcurrency"] = command.RawMaxConcurrency,
        ["MaxErrors"] = command.RawMaxErrors,
        ["TargetCount"] = command.Invocations.Count,
        ["CompletedCount"] = command.Invocations.Count(i => i.IsTerminal),
        ["ErrorCount"] = command.ErrorCount,
        ["DeliveryTimedOutCount"] = command.DeliveryTimedOutCount,
        ["ExpiresAfter"] = command.ExpiresAfter.ToUnixTimeMilliseconds() / 1000.0,
    };

    RunCommandInvocation Find(JsonElement request)
    {
        var commandId = Text(request, "CommandId") ?? "";
        var instanceId = Text(request, "InstanceId") ?? "";
        return (commands.TryGetValue(commandId, out var command) ? command.Invocations.FirstOrDefault(i => i.InstanceId == instanceId) : null)
            ?? throw new AwsError("InvocationDoesNotExist", "");
    }

    JsonObject GetCommandInvocation(JsonElement request)
    {
        var invocation = Find(request);
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

    JsonObject ListCommandInvocations(JsonElement request)
    {
        var commandId = Text(request, "CommandId") ?? throw new AwsError("ValidationException", "CommandId is required here.");
        if (!commands.TryGetValue(commandId, out var command)) throw new AwsError("InvalidCommandId", "");
        var details = request.TryGetProperty("Details", out var d) && d.ValueKind == JsonValueKind.True;
        var list = new JsonArray();
        foreach (var invocation in command.Invocations)
            lock (invocation.Gate)
            {
                var item = new JsonObject
                {
                    ["CommandId"] = invocation.CommandId,
                    ["InstanceId"] = invocation.InstanceId,
                    ["Comment"] = invocation.Comment,
                    ["DocumentName"] = "AWS-RunShellScript",
                    ["Status"] = invocation.Status,
                    ["StatusDetails"] = invocation.StatusDetails,
                    ["RequestedDateTime"] = command.Requested.ToUnixTimeMilliseconds() / 1000.0,
                };
                if (details)
                    item["CommandPlugins"] = new JsonArray(new JsonObject
                    {
                        ["Name"] = "aws:runShellScript",
                        ["Status"] = invocation.Status,
                        ["StatusDetails"] = invocation.StatusDetails,
                        ["ResponseCode"] = invocation.ResponseCode,
                        ["Output"] = invocation.IsTerminal ? Cut(invocation.StandardOutput, ListOutputLimit) : "",
                    });
                if (details && invocation.Started is { } started)
                    ((JsonObject)item["CommandPlugins"]![0]!)["ResponseStartDateTime"] = started.ToUnixTimeMilliseconds() / 1000.0;
                list.Add(item);
            }
        return new JsonObject { ["CommandInvocations"] = list };
    }

    JsonObject ListCommands(JsonElement request)
    {
        var commandId = Text(request, "CommandId") ?? "";
        if (!commands.TryGetValue(commandId, out var command)) throw new AwsError("InvalidCommandId", "");
        return new JsonObject { ["Commands"] = new JsonArray(CommandJson(command, "AWS-RunShellScript", command.Invocations.FirstOrDefault()?.Comment ?? "")) };
    }

    JsonObject CancelCommand(JsonElement request)
    {
        var commandId = Text(request, "CommandId") ?? "";
        if (!commands.TryGetValue(commandId, out var command)) throw new AwsError("InvalidCommandId", "");
        var instanceIds = Strings(request, "InstanceIds");
        foreach (var invocation in command.Invocations.Where(i => instanceIds.Count == 0 || instanceIds.Contains(i.InstanceId)))
            invocation.Cancel();
        return [];
    }

    /// <summary>The managed instances (unmanaged ones are not registered, so not listed), filtered by Filters
    /// (InstanceIds, PingStatus, PlatformTypes, tag:Key, tag-key) or InstanceInformationFilterList (instanceIds),
    /// paged by MaxResults (5 to 50) and NextToken.</summary>
    JsonObject DescribeInstanceInformation(JsonElement request)
    {
        IEnumerable<FakeInstance> matching = instances.Values.Where(i => i.Managed).OrderBy(i => i.Id, StringComparer.Ordinal);
        foreach (var (list, keyName, valuesName) in new[] { ("Filters", "Key", "Values"), ("InstanceInformationFilterList", "key", "valueSet") })
        {
            if (!request.TryGetProperty(list, out var filters) || filters.ValueKind != JsonValueKind.Array) continue;
            foreach (var filter in filters.EnumerateArray())
            {
                var key = Text(filter, keyName) ?? "";
                var values = Strings(filter, valuesName);
                if (values.Count == 0) throw new AwsError("InvalidFilterValue", $"The filter {key} has no values.");
                matching = key switch
                {
                    "InstanceIds" or "instanceIds" => matching.Where(i => values.Contains(i.Id)),
                    "PingStatus" => matching.Where(i => values.Contains(i.PingStatus)),
                    "PlatformTypes" => matching.Where(_ => values.Contains("Linux")),
                    "tag-key" => matching.Where(i => values.Any(i.Tags.ContainsKey)),
                    _ when key.StartsWith("tag:", StringComparison.Ordinal) => matching.Where(i => i.Tags.TryGetValue(key[4..], out var v) && values.Contains(v)),
                    _ => throw new AwsError("InvalidFilterKey", $"The filter key {key} is not valid."),
                };
            }
        }
        var max = request.TryGetProperty("MaxResults", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 50;
        if (max is < 5 or > 50)
            throw new AwsError("ValidationException", $"1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50");
        var start = int.TryParse(Text(request, "NextToken"), out var token) ? token : 0;
        var all = matching.ToList();
        var page = all.Skip(start).Take(max).ToList();
        var answer = new JsonObject
        {
            ["InstanceInformationList"] = new JsonArray(page.Select(i => (JsonNode?)new JsonObject
            {
                ["InstanceId"] = i.Id,
                ["PingStatus"] = i.PingStatus,
                ["LastPingDateTime"] = i.LastPing.ToUnixTimeMilliseconds() / 1000.0,
                ["AgentVersion"] = "3.3.1142.0",
                ["IsLatestVersion"] = true,
                ["PlatformType"] = "Linux",
                ["PlatformName"] = i.PlatformName,
                ["PlatformVersion"] = i.PlatformVersion,
                ["ResourceType"] = "EC2Instance",
                ["ComputerName"] = $"ip-10-0-0-{Math.Abs(i.Id.GetHashCode() % 250)}.{Region}.compute.internal",
                ["IPAddress"] = "10.0.0.1",
            }).ToArray()),
        };
        if (start + page.Count < all.Count) answer["NextToken"] = (start + page.Count).ToString();
        return answer;
    }

    JsonObject PutParameter(JsonElement request)
    {
        var name = Text(request, "Name") ?? throw new AwsError("ValidationException", "Name is required.");
        var value = Text(request, "Value") ?? throw new AwsError("ValidationException", "Value is required.");
        var type = Text(request, "Type") ?? "String";
        if (type is not ("String" or "StringList" or "SecureString"))
            throw new AwsError("ValidationException", $"1 validation error detected: Value '{type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]");
        var overwrite = request.TryGetProperty("Overwrite", out var o) && o.ValueKind == JsonValueKind.True;
        (string Arn, bool Managed)? key = null;
        if (type == "SecureString")
            key = ResolveKey(Text(request, "KeyId")) ?? throw new AwsError("InvalidKeyId", "");
        else if (Text(request, "KeyId") is not null)
            throw new AwsError("ValidationException", "KeyId is required for SecureString type parameter only.");
        lock (parameters)
        {
            if (parameters.TryGetValue(name, out var versions) && !overwrite)
                throw new AwsError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
            versions ??= parameters[name] = [];
            var version = versions.Count + 1L;
            versions.Add(new StoredParameter(name, value, type, version, DateTimeOffset.UtcNow, key?.Arn, key?.Managed ?? true,
                key is { } k ? Encrypt(value, k.Arn) : null));
            return new JsonObject { ["Version"] = version, ["Tier"] = "Standard" };
        }
    }

    /// <summary>A SecureString's Value is its ciphertext unless the request asks WithDecryption (the flag is ignored for
    /// String and StringList).</summary>
    JsonObject ParameterJson(StoredParameter p, bool withDecryption = false) => new()
    {
        ["Name"] = p.Name,
        ["Type"] = p.Type,
        ["Value"] = p.Type == "SecureString" && !withDecryption ? p.Ciphertext : p.Value,
        ["Version"] = p.Version,
        ["LastModifiedDate"] = p.Modified.ToUnixTimeMilliseconds() / 1000.0,
        ["ARN"] = $"arn:aws:ssm:{Region}:{Account}:parameter{p.Name}",
        ["DataType"] = "text",
    };

    static bool WithDecryption(JsonElement request) => request.TryGetProperty("WithDecryption", out var d) && d.ValueKind == JsonValueKind.True;

    JsonObject GetParameter(JsonElement request)
    {
        var name = Text(request, "Name") ?? throw new AwsError("ValidationException", "Name is required.");
        lock (parameters)
            return parameters.TryGetValue(name, out var versions)
                ? new JsonObject { ["Parameter"] = ParameterJson(versions[^1], WithDecryption(request)) }
                : throw new AwsError("ParameterNotFound", "");
    }

    /// <summary>As AWS: the parameters found, and the names not found in InvalidParameters.</summary>
    JsonObject GetParameters(JsonElement request)
    {
        var names = Strings(request, "Names");
        lock (parameters)
            return new JsonObject
            {
                ["Parameters"] = new JsonArray(names.Where(parameters.ContainsKey).Select(n => (JsonNode?)ParameterJson(parameters[n][^1], WithDecryption(request))).ToArray()),
                ["InvalidParameters"] = new JsonArray(names.Where(n => !parameters.ContainsKey(n)).Select(n => (JsonNode?)n).ToArray()),
            };
    }

    /// <summary>As AWS: the parameter and every version of it are gone; a missing one is ParameterNotFound.</summary>
    JsonObject DeleteParameter(JsonElement request)
    {
        var name = Text(request, "Name") ?? throw new AwsError("ValidationException", "Name is required.");
        lock (parameters)
            return parameters.Remove(name) ? new JsonObject() : throw new AwsError("ParameterNotFound", "");
    }

    JsonObject GetParameterHistory(JsonElement request)
    {
        var name = Text(request, "Name") ?? throw new AwsError("ValidationException", "Name is required.");
        var max = request.TryGetProperty("MaxResults", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 50;
        var start = int.TryParse(Text(request, "NextToken"), out var token) ? token : 0;
        List<StoredParameter> versions;
        lock (parameters)
            versions = parameters.TryGetValue(name, out var v) ? [.. v] : throw new AwsError("ParameterNotFound", "");
        var page = versions.Skip(start).Take(max).ToList();
        var answer = new JsonObject
        {
            ["Parameters"] = new JsonArray(page.Select(p =>
            {
                var json = ParameterJson(p, WithDecryption(request));
                json.Remove("ARN");
                if (p.KeyArn is { } key) json["KeyId"] = p.KeyManaged ? ManagedSsmKeyAlias : key;
                json["LastModifiedUser"] = $"arn:aws:iam::{Account}:user/test";
                return (JsonNode?)json;
            }).ToArray()),
        };
        if (start + page.Count < versions.Count) answer["NextToken"] = (start + page.Count).ToString();
        return answer;
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
            matching = parameters.Values.Select(v => v[^1])
                .Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal) && (recursive || !p.Name[prefix.Length..].Contains('/')))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ToList();
        var page = matching.Skip(start).Take(max).ToList();
        var answer = new JsonObject { ["Parameters"] = new JsonArray(page.Select(p => (JsonNode?)ParameterJson(p, WithDecryption(request))).ToArray()) };
        if (start + page.Count < matching.Count) answer["NextToken"] = (start + page.Count).ToString();
        return answer;
    }

    static string Cut(string text, int limit) => text.Length <= limit ? text : text[..limit];

    /// <summary>A SecureString keeps its key and the ciphertext Value shows without decryption.</summary>
    sealed record StoredParameter(string Name, string Value, string Type, long Version, DateTimeOffset Modified,
        string? KeyArn = null, bool KeyManaged = true, string? Ciphertext = null);
}
