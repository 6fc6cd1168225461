using System.Globalization;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace TestSupport;

/// <summary>
/// The figures of one wrk run, parsed from its text report. wrk prints the socket-error and non-2xx lines only when
/// they are not zero, so their absence means zero; the request count and duration lines must be present.
/// </summary>
public sealed partial record WrkResult(
    long Requests,
    TimeSpan Duration,
    double RequestsPerSecond,
    long ConnectErrors,
    long ReadErrors,
    long WriteErrors,
    long Timeouts,
    long Non2xx3xx,
    TimeSpan? LatencyAverage,
    TimeSpan? LatencyMax)
{
    public long SocketErrors => ConnectErrors + ReadErrors + WriteErrors + Timeouts;
    public long FailedRequests => SocketErrors + Non2xx3xx;

    public static WrkResult Parse(string output)
    {
        var summary = SummaryLine().Match(output);
        if (!summary.Success)
            throw new DeliveryException($"Not a wrk report (no 'N requests in T' line): {FirstLine(output)}");
        var rps = RequestsPerSecondLine().Match(output);
        var errors = SocketErrorsLine().Match(output);
        var non2xx = Non2xxLine().Match(output);
        var latency = LatencyLine().Match(output);
        return new WrkResult(
            Requests: long.Parse(summary.Groups["n"].Value, CultureInfo.InvariantCulture),
            Duration: ParseDuration(summary.Groups["t"].Value),
            RequestsPerSecond: rps.Success ? double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            ConnectErrors: errors.Success ? long.Parse(errors.Groups["c"].Value, CultureInfo.InvariantCulture) : 0,
            ReadErrors: errors.Success ? long.Parse(errors.Groups["r"].Value, CultureInfo.InvariantCulture) : 0,
            WriteErrors: errors.Success ? long.Parse(errors.Groups["w"].Value, CultureInfo.InvariantCulture) : 0,
            Timeouts: errors.Success ? long.Parse(errors.Groups["t"].Value, CultureInfo.InvariantCulture) : 0,
            Non2xx3xx: non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            LatencyAverage: latency.Success ? ParseDuration(latency.Groups["avg"].Value) : null,
            LatencyMax: latency.Success ? ParseDuration(latency.Groups["max"].Value) : null);
    }

    /// <summary>wrk's units: us, ms, s, m, h (e.g. 2.36ms, 10.01s, 1.02m).</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var m = DurationPattern().Match(text.Trim());
        if (!m.Success) throw new DeliveryException($"Not a wrk duration: '{text}'");
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch
        {
            "us" => TimeSpan.FromTicks((long)(value * 10)),
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromHours(value),
        };
    }

    public override string ToString() =>
        $"{Requests} requests in {Duration.TotalSeconds:0.00}s ({RequestsPerSecond:0} req/s), " +
        $"socket errors {SocketErrors} (connect {ConnectErrors}, read {ReadErrors}, write {WriteErrors}, timeout {Timeouts}), non-2xx/3xx {Non2xx3xx}";

    static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    [GeneratedRegex(@"^\s*(?<n>\d+) requests in (?<t>[0-9.]+(?:us|ms|s|m|h)),", RegexOptions.Multiline)] private static partial Regex SummaryLine();
    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)] private static partial Regex RequestsPerSecondLine();
    [GeneratedRegex(@"Socket errors: connect (?<c>\d+), read (?<r>\d+), write (?<w>\d+), timeout (?<t>\d+)")] private static partial Regex SocketErrorsLine();
    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")] private static partial Regex Non2xxLine();
    [GeneratedRegex(@"^\s*Latency\s+(?<avg>[0-9.]+(?:us|ms|s|m|h))\s+\S+\s+(?<max>[0-9.]+(?:us|ms|s|m|h))", RegexOptions.Multiline)] private static partial Regex LatencyLine();
    [GeneratedRegex(@"^([0-9.]+)(us|ms|s|m|h)$")] private static partial Regex DurationPattern();
}
