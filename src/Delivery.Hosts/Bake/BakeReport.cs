using System.Globalization;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Hosts.Bake;

public enum BakeVerdict { Off, Skipped, Pass, Fail }

/// <summary>What the bake measured over its window and how it ended; quantiles and the baseline are null without data.</summary>
public sealed record BakeReport(
    BakeVerdict Verdict,
    long Requests = 0,
    long Errors = 0,
    double ErrorRate = 0,
    double MaxErrorRate = 0,
    double? P95 = null,
    double? P99 = null,
    double? P99Limit = null,
    double? BaselineP99 = null,
    int Probes = 0,
    double Seconds = 0,
    string? Rule = null,
    string? Reason = null,
    /// <summary>From the switch to the previous release serving again, after a breach.</summary>
    TimeSpan? TimeToRollback = null,
    /// <summary>The release serving again after a breach.</summary>
    string? RolledBackTo = null,
    /// <summary>Probe pairs the paired judge collected (one request to each release).</summary>
    int Pairs = 0,
    /// <summary>The paired judge's verdict: pass, slower, errors, none (too few pairs), inconclusive, off (no probes).</summary>
    string? Judge = null,
    /// <summary>The judge's line: the statistic, p-values, both medians and both error rates.</summary>
    string? JudgeLine = null)
{
    public static BakeReport Off { get; } = new(BakeVerdict.Off);

    internal static BakeReport Parse(JsonElement e)
    {
        double? Number(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        string? Text(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var verdict = Text("verdict") switch
        {
            "pass" => BakeVerdict.Pass,
            "fail" => BakeVerdict.Fail,
            "skipped" => BakeVerdict.Skipped,
            var other => throw new DeliveryException($"The host reported an unknown bake verdict '{other}'."),
        };
        return new BakeReport(verdict,
            (long)(Number("requests") ?? 0), (long)(Number("errors") ?? 0), Number("error_rate") ?? 0, Number("max_error_rate") ?? 0,
            Number("p95"), Number("p99"), Number("p99_limit"), Number("baseline_p99"), (int)(Number("probes") ?? 0), Number("seconds") ?? 0,
            Text("rule"), Text("reason"),
            Number("rollback_ms") is { } ms ? TimeSpan.FromMilliseconds(ms) : null, Text("rolled_back_to"),
            (int)(Number("pairs") ?? 0), Text("judge"), Text("judge_line") is { Length: > 0 } line ? line : null);
    }

    /// <summary>One line for logs and summaries, e.g. "pass: 5xx 0.00% (limit 1.00%), p99 0.012 s (limit 0.250 s), 412 requests in 30 s".</summary>
    public override string ToString() => Verdict switch
    {
        BakeVerdict.Off => "off",
        BakeVerdict.Skipped => "skipped (nothing to roll back to)",
        _ => $"{Verdict.ToString().ToLowerInvariant()}: 5xx {Percent(ErrorRate)} (limit {Percent(MaxErrorRate)}), " +
             $"p99 {Secs(P99)} (limit {Secs(P99Limit)}), {Requests} requests in {Seconds.ToString("0.#", CultureInfo.InvariantCulture)} s" +
             (JudgeLine is not null ? $"; judge: {JudgeLine}" : ""),
    };

    public static string Percent(double rate) => (rate * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
    public static string Secs(double? seconds) => seconds is { } s ? s.ToString("0.000", CultureInfo.InvariantCulture) + " s" : "n/a";
}

/// <summary>A deploy whose new release failed its bake and was rolled back automatically.</summary>
public sealed class BakeFailedException(string message, BakeReport report, string? switchedAt, TimeSpan? switchDuration) : SiteOperationException(message, [])
{
    public BakeReport Report { get; } = report;
    /// <summary>When the failed release took the traffic, as the host recorded it.</summary>
    public string? SwitchedAt { get; } = switchedAt;
    public TimeSpan? SwitchDuration { get; } = switchDuration;
}
