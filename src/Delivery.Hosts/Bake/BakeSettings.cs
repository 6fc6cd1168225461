using System.Globalization;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts.Bake;

/// <summary>
/// How a deploy watches its new release after the switch. During the bake the previous release stays running out of
/// rotation, and the paired judge (<see cref="PairedJudge"/>) sends each probe to both releases and compares them; the
/// bake ends as soon as its verdict is confident, <see cref="Duration"/> at the latest. The new release's /metrics is
/// also sampled every <see cref="Interval"/> as a safety rail: an absolute 5xx ratio and a p99 latency relative to
/// the previous release's (never below a floor). <see cref="Duration"/> zero turns the bake off: the previous release
/// is drained and stopped right after the switch.
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
    /// <summary>Paths the paired probes request, one path per pair, in turn.</summary>
    public IReadOnlyList<string> ProbePaths { get; init; } = ["/", "/cloud", "/best-practices", "/version"];
    /// <summary>No verdict from the rails on fewer requests than this in the window (probes included).</summary>
    public int MinRequests { get; init; } = 10;
    /// <summary>The paired judge's confidence, over all its looks together (Kayenta's Mann-Whitney classifier: 0.95).</summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>The slowdown tolerated before a release counts as slower: 0.1 = up to 10 % slower passes.</summary>
    public double ToleratedShift { get; init; } = 0.1;
    /// <summary>Most probe pairs (one request to each release) in a bake; 0 turns the paired judge off (rails only, on
    /// user traffic).</summary>
    public int ProbeBudget { get; init; } = 1000;
    /// <summary>No judge verdict on fewer pairs than this; at the end of the bake that is "no verdict", not a rollback.</summary>
    public int MinPairs { get; init; } = 20;

    /// <summary>Probe streams running at once, each pairing its requests (more pairs per second on an idle app).</summary>
    public const int ProbeStreams = 2;
    /// <summary>The judge looks after every this many pairs (a round of <see cref="ProbeStreams"/> streams).</summary>
    public const int PairsPerLook = 20;

    /// <summary>The most looks the judge takes: one per <see cref="PairsPerLook"/> pairs of the budget.</summary>
    public int Looks => Math.Max(1, (ProbeBudget + PairsPerLook - 1) / PairsPerLook);

    public bool Judged => ProbeBudget > 0;

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
        if (MinRequests < 1)
            throw new DeliveryException($"The bake's minimum request count must be at least 1, not {MinRequests}.");
        if (Confidence is < 0.5 or > 0.9999 || double.IsNaN(Confidence))
            throw new DeliveryException($"The bake judge's confidence must be between 0.5 and 0.9999, not {Confidence.ToString(CultureInfo.InvariantCulture)}.");
        if (ToleratedShift is < 0 or > 10 || double.IsNaN(ToleratedShift))
            throw new DeliveryException($"The bake judge's tolerated shift must be between 0 and 10 (0.1 = 10 % slower), not {ToleratedShift.ToString(CultureInfo.InvariantCulture)}.");
        if (ProbeBudget is < 0 or > 100_000)
            throw new DeliveryException($"The bake's probe budget must be between 0 and 100000 pairs, not {ProbeBudget}.");
        if (MinPairs is < 4 or > 10_000)
            throw new DeliveryException($"The bake judge's minimum pair count must be between 4 and 10000, not {MinPairs}.");
        if (ProbeBudget > 0 && ProbePaths.Count == 0)
            throw new DeliveryException("The bake needs at least one probe path when it sends probes.");
        foreach (var path in ProbePaths)
            if (!PathPattern().IsMatch(path))
                throw new DeliveryException($"Bake probe path '{path}' must start with '/' and contain only URL path characters.");
    }

    internal static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    [GeneratedRegex("^/[A-Za-z0-9._~/?=&-]*$")] private static partial Regex PathPattern();
}
