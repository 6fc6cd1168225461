using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Delivery.Core;
using Polly;
using Polly.Retry;

namespace Delivery.Aws;

/// <summary>A shell command for <see cref="SsmClient.SendCommandAsync"/>.</summary>
public sealed record SsmCommand
{
    /// <summary>Where it runs: instance ids or a tag.</summary>
    public required SsmTargets Targets { get; init; }

    /// <summary>The lines of the shell script (AWS-RunShellScript's "commands" parameter).</summary>
    public required IReadOnlyList<string> Commands { get; init; }

    public string DocumentName { get; init; } = SsmLimits.RunShellScript;

    /// <summary>How long SSM may take to deliver the command (SendCommand's TimeoutSeconds; AWS accepts 30 to 2592000).</summary>
    public int? DeliveryTimeoutSeconds { get; init; }

    /// <summary>How long the script may run before the agent stops it (AWS-RunShellScript's "executionTimeout").</summary>
    public int? ExecutionTimeoutSeconds { get; init; }

    /// <summary>How many instances run at once: a number or a percentage ("1", "25%"). Null lets SSM choose (50).</summary>
    public string? MaxConcurrency { get; init; }

    /// <summary>How many failed instances stop the command from being sent to more: "0" stops at the first.</summary>
    public string? MaxErrors { get; init; }

    /// <summary>Keeps the full output in S3 (SSM's own output settings), beyond what GetCommandInvocation returns.</summary>
    public string? OutputS3BucketName { get; init; }

    /// <summary>Keeps the full output in a CloudWatch Logs group.</summary>
    public string? CloudWatchLogGroupName { get; init; }

    /// <summary>Shown in the console; AWS allows 100 characters, longer ones are cut.</summary>
    public string? Comment { get; init; }
}

/// <summary>One command on one instance, as GetCommandInvocation reports it.</summary>
/// <param name="Status">Pending, InProgress, Delayed, Success, Cancelled, TimedOut, Failed or Cancelling.</param>
/// <param name="ResponseCode">The script's exit code; -1 while it has not run (or never ran).</param>
/// <param name="StandardOutputContent">The first 24,000 characters of stdout; empty until the command ends.</param>
/// <param name="StandardErrorContent">The first 8,000 characters of stderr.</param>
/// <param name="ExecutionStarted">The script started on the instance (GetCommandInvocation's ExecutionStartDateTime is
/// set, or the agent reported an exit code); false when the instance never took the command.</param>
public sealed record SsmInvocation(
    string CommandId, string InstanceId, string Status, string StatusDetails, int ResponseCode,
    string StandardOutputContent, string StandardErrorContent, bool ExecutionStarted = false)
{
    /// <summary>The command expired before this invocation finished (send + TimeoutSeconds + executionTimeout).</summary>
    public bool DeliveryTimedOut => Status == "TimedOut" && StatusDetails.Replace(" ", "").Equals("DeliveryTimedOut", StringComparison.OrdinalIgnoreCase);

    public static readonly IReadOnlySet<string> TerminalStatuses = new HashSet<string>(StringComparer.Ordinal)
    {
        "Success", "Cancelled", "TimedOut", "Failed",
    };

    public bool IsTerminal => TerminalStatuses.Contains(Status);
}

/// <summary>One instance as DescribeInstanceInformation reports it: PingStatus Online, ConnectionLost or Inactive.</summary>
public sealed record SsmInstanceInformation(string InstanceId, string PingStatus, DateTimeOffset? LastPing, string PlatformName, string PlatformVersion)
{
    public bool IsOnline => PingStatus == "Online";
}

/// <summary>A Parameter Store entry (or one version of it, from the history).</summary>
public sealed record SsmParameter(string Name, string Value, string Type, long Version, DateTimeOffset? LastModified, string? LastModifiedUser = null);

/// <summary>
/// The parts of the SSM API that deploys use, on the official SDK (AWSSDK.SimpleSystemsManagement): Run Command and
/// Parameter Store. Every failure becomes one line (<see cref="AwsException"/> or <see cref="DeliveryException"/>).
/// <para>Retries: reads and Parameter Store writes keep the SDK's standard retries (throttling, 5xx, timeouts).
/// SendCommand has the SDK's retries turned off and is retried here only when throttled, since AWS refused it before
/// doing anything: a retry after a 5xx or a lost answer could run the script twice.</para>
/// </summary>
public sealed class SsmClient : IDisposable
{
    static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "RequestLimitExceeded", "TooManyUpdates", "RequestThrottled",
    };

    readonly AmazonSimpleSystemsManagementClient client;
    readonly AmazonSimpleSystemsManagementClient sendClient;
    readonly ResiliencePipeline throttlingOnly;

    public SsmClient(AwsSettings settings)
    {
        settings.Validate();
        Endpoint = settings.SsmEndpoint ?? AwsService.Ssm.DefaultEndpoint(settings.Region);
        Region = settings.Region;
        client = new AmazonSimpleSystemsManagementClient(settings.Credentials, Config(settings, settings.MaxAttempts - 1));
        sendClient = new AmazonSimpleSystemsManagementClient(settings.Credentials, Config(settings, 0));
        throttlingOnly = ThrottlingRetry(settings);
    }

    public Uri Endpoint { get; }

    /// <summary>The region this client's calls go to (and where its parameters live).</summary>
    public string Region { get; }

    static AmazonSimpleSystemsManagementConfig Config(AwsSettings settings, int retries)
    {
        var config = new AmazonSimpleSystemsManagementConfig
        {
            MaxErrorRetry = Math.Max(0, retries),
            RetryMode = RequestRetryMode.Standard,
            Timeout = settings.RequestTimeout,
            // The endpoint is resolved once, by AwsSettings, from the same variables the SDK would read.
            IgnoreConfiguredEndpointUrls = true,
        };
        if (settings.SsmEndpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = settings.Region;
        }
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region);
        return config;
    }

    /// <summary>Polly refuses a retry strategy with no retries, so one attempt means no strategy at all.</summary>
    static ResiliencePipeline ThrottlingRetry(AwsSettings settings) =>
        settings.MaxAttempts <= 1
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryBaseDelay,
                MaxDelay = TimeSpan.FromSeconds(20),
                ShouldHandle = new PredicateBuilder().Handle<AmazonServiceException>(IsThrottling),
            }).Build();

    internal static bool IsThrottling(AmazonServiceException ex) =>
        ex.StatusCode == HttpStatusCode.TooManyRequests || (ex.ErrorCode is { } code && ThrottlingCodes.Contains(code));

    /// <summary>Sends the command and returns its command id. Checks the size first (see <see cref="SsmLimits"/>).</summary>
    public async Task<string> SendCommandAsync(SsmCommand command, CancellationToken cancellationToken = default)
    {
        SsmLimits.CheckCommandSize(command.Commands);
        var parameters = new Dictionary<string, List<string>> { ["commands"] = [.. command.Commands] };
        if (command.ExecutionTimeoutSeconds is { } execution)
            parameters["executionTimeout"] = [execution.ToString(CultureInfo.InvariantCulture)];
        var request = new SendCommandRequest
        {
            DocumentName = command.DocumentName,
            Parameters = parameters,
            TimeoutSeconds = command.DeliveryTimeoutSeconds,
            MaxConcurrency = command.MaxConcurrency,
            MaxErrors = command.MaxErrors,
            Comment = command.Comment is { Length: > 100 } c ? c[..100] : command.Comment,
        };
        if (command.Targets.InstanceIds is { Count: > 0 } ids) request.InstanceIds = [.. ids];
        else request.Targets = [new Target { Key = $"tag:{command.Targets.TagKey}", Values = [.. command.Targets.TagValues!] }];
        if (command.OutputS3BucketName is { Length: > 0 } bucket) request.OutputS3BucketName = bucket;
        if (command.CloudWatchLogGroupName is { Length: > 0 } group)
            request.CloudWatchOutputConfig = new CloudWatchOutputConfig { CloudWatchLogGroupName = group, CloudWatchOutputEnabled = true };

        var response = await Call("SendCommand", token => throttlingOnly.ExecuteAsync(
            async t => await sendClient.SendCommandAsync(request, t), token).AsTask(), cancellationToken);
        return response.Command?.CommandId is { Length: > 0 } id
            ? id
            : throw new AwsException(AwsService.Ssm, "SendCommand", 200, "InvalidResponse", "the response has no Command.CommandId");
    }

    public async Task<SsmInvocation> GetCommandInvocationAsync(string commandId, string instanceId, CancellationToken cancellationToken = default)
    {
        var r = await Call("GetCommandInvocation", t => client.GetCommandInvocationAsync(
            new GetCommandInvocationRequest { CommandId = commandId, InstanceId = instanceId }, t), cancellationToken);
        return new SsmInvocation(r.CommandId ?? commandId, r.InstanceId ?? instanceId, r.Status?.Value ?? "", r.StatusDetails ?? "",
            r.ResponseCode ?? -1, r.StandardOutputContent ?? "", r.StandardErrorContent ?? "",
            !string.IsNullOrEmpty(r.ExecutionStartDateTime) || r.ResponseCode >= 0);
    }

    /// <summary>The SSM-managed instances among <paramref name="targets"/> with their PingStatus, across pages. An
    /// instance id that is not listed has no registered agent (not managed).</summary>
    public async Task<IReadOnlyList<SsmInstanceInformation>> DescribeInstanceInformationAsync(SsmTargets targets, CancellationToken cancellationToken = default)
    {
        var list = new List<SsmInstanceInformation>();
        var filter = targets.InstanceIds is { Count: > 0 } ids
            ? new InstanceInformationStringFilter { Key = "InstanceIds", Values = [.. ids] }
            : new InstanceInformationStringFilter { Key = $"tag:{targets.TagKey}", Values = [.. targets.TagValues!] };
        string? next = null;
        do
        {
            var request = new DescribeInstanceInformationRequest { Filters = [filter], MaxResults = 50, NextToken = next };
            var r = await Call("DescribeInstanceInformation", t => client.DescribeInstanceInformationAsync(request, t), cancellationToken);
            list.AddRange((r.InstanceInformationList ?? []).Select(i => new SsmInstanceInformation(
                i.InstanceId, i.PingStatus?.Value ?? "", Time(i.LastPingDateTime), i.PlatformName ?? "", i.PlatformVersion ?? "")));
            next = r.NextToken;
        } while (!string.IsNullOrEmpty(next));
        return list;
    }

    /// <summary>Every instance the command was sent to (so far), with its status and exit code, across pages.</summary>
    public async Task<IReadOnlyList<SsmInvocation>> ListCommandInvocationsAsync(string commandId, CancellationToken cancellationToken = default)
    {
        var list = new List<SsmInvocation>();
        string? next = null;
        do
        {
            var request = new ListCommandInvocationsRequest { CommandId = commandId, Details = true, NextToken = next };
            var r = await Call("ListCommandInvocations", t => client.ListCommandInvocationsAsync(request, t), cancellationToken);
            foreach (var i in r.CommandInvocations ?? [])
            {
                var plugin = i.CommandPlugins?.FirstOrDefault();
                list.Add(new SsmInvocation(i.CommandId ?? commandId, i.InstanceId ?? "", i.Status?.Value ?? "", i.StatusDetails ?? "",
                    plugin?.ResponseCode ?? -1, plugin?.Output ?? "", "", plugin?.ResponseStartDateTime is not null || plugin?.ResponseCode >= 0));
            }
            next = r.NextToken;
        } while (!string.IsNullOrEmpty(next));
        return list;
    }

    /// <summary>The command's overall status (ListCommands): Pending, InProgress, Success, Failed, Cancelled, TimedOut…</summary>
    public async Task<string> GetCommandStatusAsync(string commandId, CancellationToken cancellationToken = default)
    {
        var r = await Call("ListCommands", t => client.ListCommandsAsync(new ListCommandsRequest { CommandId = commandId }, t), cancellationToken);
        return r.Commands?.FirstOrDefault()?.Status?.Value
               ?? throw new AwsException(AwsService.Ssm, "ListCommands", 200, "InvalidResponse", $"command {commandId} is not listed");
    }

    /// <summary>Asks the agent to stop the command; SSM answers before the command has stopped.</summary>
    public Task CancelCommandAsync(string commandId, IReadOnlyList<string>? instanceIds = null, CancellationToken cancellationToken = default) =>
        Call("CancelCommand", t => client.CancelCommandAsync(new CancelCommandRequest
        {
            CommandId = commandId,
            InstanceIds = instanceIds is { Count: > 0 } ? [.. instanceIds] : null,
        }, t), cancellationToken);

    /// <summary>Writes a parameter and returns its new version.</summary>
    /// <param name="keyId">For a SecureString: the KMS key (id, ARN or alias); null is the AWS managed key aws/ssm.</param>
    public async Task<long> PutParameterAsync(
        string name, string value, string type = "String", bool overwrite = false, CancellationToken cancellationToken = default, string? keyId = null)
    {
        var r = await Call("PutParameter", t => client.PutParameterAsync(new PutParameterRequest
        {
            Name = name, Value = value, Type = ParameterType.FindValue(type), Overwrite = overwrite, KeyId = keyId,
        }, t), cancellationToken);
        return r.Version ?? 0;
    }

    /// <summary>The parameter, or null when it does not exist.</summary>
    public async Task<SsmParameter?> GetParameterAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var r = await Call("GetParameter", t => client.GetParameterAsync(new GetParameterRequest { Name = name }, t), cancellationToken);
            var p = r.Parameter;
            return new SsmParameter(p.Name, p.Value, p.Type?.Value ?? "String", p.Version ?? 0, Time(p.LastModifiedDate));
        }
        catch (AwsException ex) when (ex.ErrorCode == "ParameterNotFound")
        {
            return null;
        }
    }

    /// <summary>Deletes the parameter and its history; false when it did not exist.</summary>
    public async Task<bool> DeleteParameterAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await Call("DeleteParameter", t => client.DeleteParameterAsync(new DeleteParameterRequest { Name = name }, t), cancellationToken);
            return true;
        }
        catch (AwsException ex) when (ex.ErrorCode == "ParameterNotFound")
        {
            return false;
        }
    }

    /// <summary>Every version of the parameter, oldest first; empty when it does not exist.</summary>
    public async Task<IReadOnlyList<SsmParameter>> GetParameterHistoryAsync(string name, CancellationToken cancellationToken = default)
    {
        var list = new List<SsmParameter>();
        string? next = null;
        try
        {
            do
            {
                var request = new GetParameterHistoryRequest { Name = name, NextToken = next };
                var r = await Call("GetParameterHistory", t => client.GetParameterHistoryAsync(request, t), cancellationToken);
                list.AddRange((r.Parameters ?? []).Select(p =>
                    new SsmParameter(p.Name, p.Value, p.Type?.Value ?? "String", p.Version ?? 0, Time(p.LastModifiedDate), p.LastModifiedUser)));
                next = r.NextToken;
            } while (!string.IsNullOrEmpty(next));
        }
        catch (AwsException ex) when (ex.ErrorCode == "ParameterNotFound")
        {
            return [];
        }
        return list.OrderBy(p => p.Version).ToList();
    }

    /// <summary>Every parameter under <paramref name="path"/>, following NextToken across pages.</summary>
    public async Task<IReadOnlyList<SsmParameter>> GetParametersByPathAsync(
        string path, bool recursive = true, bool withDecryption = false, CancellationToken cancellationToken = default)
    {
        var list = new List<SsmParameter>();
        string? next = null;
        do
        {
            var request = new GetParametersByPathRequest { Path = path, Recursive = recursive, WithDecryption = withDecryption, NextToken = next };
            var r = await Call("GetParametersByPath", t => client.GetParametersByPathAsync(request, t), cancellationToken);
            list.AddRange((r.Parameters ?? []).Select(p =>
                new SsmParameter(p.Name, p.Value, p.Type?.Value ?? "String", p.Version ?? 0, Time(p.LastModifiedDate))));
            next = r.NextToken;
        } while (!string.IsNullOrEmpty(next));
        return list;
    }

    static DateTimeOffset? Time(DateTime? time) => time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    /// <summary>Runs one SDK call and turns whatever it throws into one line without secrets.</summary>
    async Task<T> Call<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (AmazonServiceException ex) when (ex.StatusCode != 0 && ex.ErrorCode is { Length: > 0 })
        {
            throw new AwsException(AwsService.Ssm, operation, (int)ex.StatusCode, ex.ErrorCode, AwsErrors.OneLine(ex.Message));
        }
        catch (Exception ex) when (AwsErrors.IsUnreachable(ex, cancellationToken))
        {
            throw new AwsException(AwsService.Ssm, operation, 0, "Unreachable", $"{Endpoint.GetLeftPart(UriPartial.Authority)}: {AwsErrors.OneLine(AwsErrors.Innermost(ex).Message)}");
        }
        catch (AmazonClientException ex)
        {
            throw new DeliveryException($"SSM {operation} failed: {AwsErrors.OneLine(ex.Message)}", ex);
        }
    }

    // The hand-written ECR client reads its JSON with this.
    internal static string? Text(System.Text.Json.JsonElement element, string name) => AwsJsonClient.Text(element, name);

    public void Dispose()
    {
        client.Dispose();
        sendClient.Dispose();
    }
}
