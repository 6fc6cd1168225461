using System.Globalization;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts.Bake;

/// <summary>
/// How a deploy watches its new release after the switch. During <see cref="Duration"/> the previous release stays
/// running out of rotation; the new one's /metrics is sampled every <see cref="Interval"/> and judged against two
/// rules: an absolute 5xx ratio and a p99 latency relative to the previous release's (never below a floor).
/// <see cref="Duration"/> zero turns the bake off: the previous release is drained and stopped right after the switch.
/// </summary>
public sealed partial record BakeSettings
{
    public static BakeSettings Off { get; } = new() { Duration = TimeSpan.Zero };

    public TimeSpan Duration { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Largest share of 5xx responses (0..1) the new release may serve over the window.</summary>
    public double MaxErrorRate { get; init; } = 0.01;
    /// <summary>p99 may be at most this multiple of the previous release's p99 ...</summary>
    public double MaxLatencyRatio { get; init; } = 2.0;
    /// <summary>... but the limit is never below this, so a very fast previous release does not make noise a breach.</summary>
    public TimeSpan LatencyFloor { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Synthetic requests sent to the new release per interval, cycling over <see cref="ProbePaths"/>.</summary>
    public int ProbesPerInterval { get; init; } = 10;
    public IReadOnlyList<string> ProbePaths { get; init; } = ["/", "/cloud", "/best-practices", "/version"];
    /// <summary>No verdict on fewer requests than this in the window (probes included).</summary>
    public int MinRequests { get; init; } = 10;

    public bool Enabled => Duration > TimeSpan.Zero;

    public void Validate()
    {
        if (Duration < TimeSpan.Zero || Duration > TimeSpan.FromHours(2))
            throw new DeliveryException($"The bake time must be between 0 and 7200 seconds, not {Seconds(Duration)}.");
        if (!Enabled) return;
        if (Interval < TimeSpan.FromMilliseconds(200) || Interval > Duration)
            throw new DeliveryException($"The bake interval must be at least 0.2 s and at most the bake time ({Seconds(Duration)} s), not {Seconds(Interval)} s.");
        if (MaxErrorRate is < 0 or > 1 || double.IsNaN(MaxErrorRate))
            throw new DeliveryException($"The bake's maximum error rate must be between 0 and 1, not {MaxErrorRate.ToString(CultureInfo.InvariantCulture)}.");
        if (MaxLatencyRatio < 1 || double.IsNaN(MaxLatencyRatio) || double.IsInfinity(MaxLatencyRatio))
            throw new DeliveryException($"The bake's latency ratio must be at least 1, not {MaxLatencyRatio.ToString(CultureInfo.InvariantCulture)}.");
        if (LatencyFloor <= TimeSpan.Zero)
            throw new DeliveryException("The bake's latency floor must be positive.");
        if (ProbesPerInterval is < 0 or > 100)
            throw new DeliveryException($"Bake probes per interval must be between 0 and 100, not {ProbesPerInterval}.");
        if (MinRequests < 1)
            throw new DeliveryException($"The bake's minimum request count must be at least 1, not {MinRequests}.");
        if (ProbesPerInterval > 0 && ProbePaths.Count == 0)
            throw new DeliveryException("The bake needs at least one probe path when it sends probes.");
        foreach (var path in ProbePaths)
            if (!PathPattern().IsMatch(path))
                throw new DeliveryException($"Bake probe path '{path}' must start with '/' and contain only URL path characters.");
    }

    internal static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    [GeneratedRegex("^/[A-Za-z0-9._~/?=&-]*$")] private static partial Regex PathPattern();
}
