using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Aws.TestEndpoint.RequestFields;
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
/// checked on every request. SSM Run Command runs the commands on this machine as amazon-ssm-agent does (README.md); Parameter Store is in
/// memory; ECR hands out a login with a configurable password. Serves SSM and ECR on the same port.
/// </summary>
public sealed partial class AwsTestEndpoint : IAsyncDisposable
{
    public const string AccessKey = "AKIATESTENDPOINT0001";
    public const string SecretKey = "tEsTsEcReT/kEy+0001/NotARealAwsSecretKeyAtAll";
    public const string Account = "123456789012";

    /// <summary>The instance role's temporary credentials, as an EC2 instance gets them from its instance profile: what
    /// a fake instance's own AWS CLI signs with, so the instance role's policy can be enforced on its requests.</summary>
    public const string InstanceAccessKey = "ASIATESTINSTANCE0003";
    public const string InstanceSecretKey = "iNsTaNcE/rOlE+0003/NotARealAwsSecretKeyAtAll";
    public const string InstanceSessionToken = "FwoGZXIvYXdzTESTINSTANCEROLE0003/NotARealToken";

    /// <summary>Temporary credentials (as STS hands out): the key is valid only with <see cref="SessionToken"/>.</summary>
    public const string TemporaryAccessKey = "ASIATESTENDPOINT0002";
    public const string TemporarySecretKey = "tEmPoRaRy/sEcReT+0002/NotARealAwsSecretKeyAtAll";
    public const string SessionToken = "FwoGZXIvYXdzTESTSESSIONTOKEN0002/NotARealToken";

    const string SsmPrefix = "AmazonSSM.";
    const string EcrPrefix = "AmazonEC2ContainerRegistry_V20150921.";

    readonly WebApplication app;
    readonly SignatureVerifier verifier;
    readonly ConcurrentQueue<string> received = new();
    int throttleNext;
    int failNext;

    AwsTestEndpoint(WebApplication app, string region, IReadOnlyDictionary<string, string> secretKeys)
    {
        this.app = app;
        Region = region;
        Ecr = new EcrApi(Account, region);
        verifier = new SignatureVerifier(secretKeys, region, SessionTokens, ExpiredSessionTokens);
        AddInstance("i-0123456789abcdef0");
    }

    public string Region { get; }
    public Uri Url { get; private set; } = null!;

    /// <summary>How many GetCommandInvocation calls for a new command answer InvocationDoesNotExist.</summary>
    public int InvocationNotVisibleFor { get; set; } = 2;

    public string EcrUsername { get; set; } = "AWS";
    public string EcrPassword { get; set; } = "ecr-test-password";
    /// <summary>ECR repositories and images (backed by a real registry).</summary>
    public EcrApi Ecr { get; }

    public Uri EcrProxyEndpoint => new($"https://{Account}.dkr.ecr.{Region}.amazonaws.com");

    /// <summary>IAM policies enforced per access key (keys with none assigned are not checked, as an admin would be).</summary>
    public IamEnforcement Iam { get; } = new();

    static string AccessKeyOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        var at = header.IndexOf("Credential=", StringComparison.Ordinal);
        if (at < 0) return request.Query["X-Amz-Credential"].ToString().Split('/')[0];
        var rest = header[(at + "Credential=".Length)..];
        return rest[..Math.Max(0, rest.IndexOf('/'))];
    }

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
        var endpoint = new AwsTestEndpoint(app, region, secretKeys ?? new Dictionary<string, string>
        {
            [AccessKey] = SecretKey, [TemporaryAccessKey] = TemporarySecretKey, [InstanceAccessKey] = InstanceSecretKey,
        });
        endpoint.SessionTokens[TemporaryAccessKey] = SessionToken;
        endpoint.SessionTokens[InstanceAccessKey] = InstanceSessionToken;
        app.Run(endpoint.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return endpoint;
    }

    async Task HandleAsync(HttpContext context)
    {
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
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

        if (service is not null && Iam.TryGet(AccessKeyOf(context.Request), out var principal) && body.Length < 1_000_000)
        {
            var operation = target[(service == "ssm" ? SsmPrefix : EcrPrefix).Length..];
            var action = $"{service}:{operation}";
            JsonElement parsed;
            try { using var d = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body); parsed = d.RootElement.Clone(); }
            catch (JsonException) { parsed = default; }
            if (parsed.ValueKind == JsonValueKind.Object)
            {
                if (principal.Policy.Refuses(action, IamResources(service, operation, parsed), Region) is { } denied)
                {
                    await Error(context, 400, "AccessDeniedException",
                        $"User: arn:aws:sts::{Account}:assumed-role/{principal.Role}/test-session is not authorized to perform: {action} on resource: {denied.Arn} " +
                        (denied.ExplicitDeny ? "with an explicit deny in an identity-based policy" : $"because no identity-based policy allows the {action} action"));
                    return;
                }
                Iam.UsedActions[action] = true;
                // SSM calls KMS on the caller's behalf: a customer managed key also needs the caller's kms: permission.
                if (service == "ssm")
                    foreach (var (kmsAction, key, kmsContext) in KmsUses(operation, parsed))
                    {
                        if (principal.Policy.Refuses(kmsAction, [key], Region, kmsContext) is { } kmsDenied)
                        {
                            await Error(context, 400, "AccessDeniedException",
                                $"User: arn:aws:sts::{Account}:assumed-role/{principal.Role}/test-session is not authorized to perform: {kmsAction} on resource: {kmsDenied.Arn} " +
                                (kmsDenied.ExplicitDeny ? "with an explicit deny in an identity-based policy" : $"because no identity-based policy allows the {kmsAction} action") +
                                " (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)");
                            return;
                        }
                        Iam.UsedActions[kmsAction] = true;
                    }
            }
        }

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
                _ when target.StartsWith(SsmPrefix, StringComparison.Ordinal) => Ssm(target[SsmPrefix.Length..], request, body),
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

    public async ValueTask DisposeAsync()
    {
        foreach (var invocation in commands.Values.SelectMany(c => c.Invocations)) invocation.Kill();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    sealed class AwsError(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}
