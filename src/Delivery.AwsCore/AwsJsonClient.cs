using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;

namespace Delivery.Aws;

/// <summary>
/// The AWS JSON 1.1 protocol: POST / with the operation in X-Amz-Target and JSON in and out, signed with SigV4.
/// Throttling, 5xx and unreachable endpoints are retried a bounded number of times with backoff; every attempt is
/// signed anew, since a signature carries its time.
/// </summary>
public sealed class AwsJsonClient : IDisposable
{
    const string ContentType = "application/x-amz-json-1.1";

    static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "RequestLimitExceeded", "TooManyUpdates", "ProvisionedThroughputExceededException", "RequestThrottled",
    };

    readonly AwsService service;
    readonly AwsSettings settings;
    readonly AwsSigner signer;
    readonly HttpClient http;
    readonly ResiliencePipeline<Answer> retry;
    readonly ResiliencePipeline<Answer> retryThrottling;

    public AwsJsonClient(AwsService service, AwsSettings settings, Uri? endpoint = null)
    {
        this.service = service;
        this.settings = settings;
        Endpoint = endpoint ?? service.DefaultEndpoint(settings.Region);
        signer = new AwsSigner(service, settings.Region);
        http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = settings.RequestTimeout,
        };
        retry = Retry(settings, answer => answer.IsRetryable, retryFailures: true);
        retryThrottling = Retry(settings, answer => answer.IsThrottling, retryFailures: false);
    }

    // Polly refuses a retry strategy with no retries, so one attempt means no strategy at all.
    static ResiliencePipeline<Answer> Retry(AwsSettings settings, Func<Answer, bool> retryable, bool retryFailures) =>
        settings.MaxAttempts <= 1 ? ResiliencePipeline<Answer>.Empty : new ResiliencePipelineBuilder<Answer>()
            .AddRetry(new RetryStrategyOptions<Answer>
            {
                MaxRetryAttempts = settings.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryBaseDelay,
                MaxDelay = TimeSpan.FromSeconds(20),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: HttpRequestException or TimeoutException } => retryFailures,
                    { Result: { } answer } => retryable(answer),
                    _ => false,
                }),
            })
            .Build();

    public Uri Endpoint { get; }

    /// <summary>Calls <paramref name="operation"/> and returns the response's JSON object; throws
    /// <see cref="AwsException"/> with AWS's error code and message when it fails.</summary>
    /// <param name="idempotent">False for calls that must not happen twice (SendCommand would run a script twice):
    /// they are retried only when AWS throttled them, that is refused them before doing anything, not after a 5xx
    /// or a lost answer.</param>
    public async Task<JsonElement> SendAsync(
        string operation, JsonObject request, CancellationToken cancellationToken = default, bool idempotent = true)
    {
        var body = Encoding.UTF8.GetBytes(request.ToJsonString());
        Answer answer;
        try
        {
            answer = await (idempotent ? retry : retryThrottling)
                .ExecuteAsync(async token => await AttemptAsync(operation, body, token), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            throw new AwsException(service, operation, 0, "Unreachable", $"{Endpoint.GetLeftPart(UriPartial.Authority)}: {ex.Message}");
        }

        if (answer.Status is >= 200 and < 300)
        {
            if (answer.Body.Length == 0) return JsonDocument.Parse("{}").RootElement;
            try
            {
                using var document = JsonDocument.Parse(answer.Body);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new AwsException(service, operation, answer.Status, "InvalidResponse", "the response is not JSON");
            }
        }
        throw new AwsException(service, operation, answer.Status, answer.ErrorCode ?? $"HTTP{answer.Status}", answer.ErrorMessage);
    }

    async Task<Answer> AttemptAsync(string operation, byte[] body, CancellationToken cancellationToken)
    {
        var credentials = await settings.Credentials.GetCredentialsAsync();
        var headers = signer.Sign(Endpoint, new Dictionary<string, string>
        {
            ["Content-Type"] = ContentType,
            ["X-Amz-Target"] = $"{service.TargetPrefix}.{operation}",
        }, body, credentials);

        using var message = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(body) };
        // The exact Content-Type that was signed: StringContent would append a charset.
        message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        foreach (var (name, value) in headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                continue;
            message.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return Answer.From((int)response.StatusCode, text, response.Headers);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {settings.RequestTimeout.TotalSeconds:0} s");
        }
    }

    public void Dispose() => http.Dispose();

    internal static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    sealed record Answer(int Status, string Body, string? ErrorCode, string ErrorMessage)
    {
        public bool IsThrottling =>
            Status == (int)HttpStatusCode.TooManyRequests || (ErrorCode is not null && ThrottlingCodes.Contains(ErrorCode));

        public bool IsRetryable => Status >= 500 || IsThrottling;

        public static Answer From(int status, string body, HttpResponseHeaders headers)
        {
            if (status is >= 200 and < 300) return new Answer(status, body, null, "");
            string? code = null, text = null;
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    code = String(document.RootElement, "__type");
                    text = String(document.RootElement, "message") ?? String(document.RootElement, "Message");
                }
            }
            catch (JsonException) { }
            if (code is null && headers.TryGetValues("x-amzn-ErrorType", out var types)) code = types.FirstOrDefault();
            return new Answer(status, body, ShortCode(code), OneLine(text) ?? $"HTTP {status}");
        }

        static string? String(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        // "com.amazonaws.ssm#InvalidInstanceId" and "InvalidInstanceId:http://internal.amazon.com/..." both mean InvalidInstanceId.
        static string? ShortCode(string? code)
        {
            if (string.IsNullOrWhiteSpace(code)) return null;
            var name = code[(code.LastIndexOf('#') + 1)..];
            var colon = name.IndexOf(':');
            return (colon > 0 ? name[..colon] : name).Trim();
        }

        static string? OneLine(string? text)
        {
            if (string.IsNullOrWhiteSpace(text)) return null;
            var line = string.Join(" ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            return line.Length <= 400 ? line : line[..400] + "…";
        }
    }
}
