using BuildGraph;
using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Bake;

/// <summary>The bake: after the switch a deploy watches the new release and rolls back by itself on a breach.</summary>
partial class Build
{
    static readonly BakeSettings BakeDefaults = new();

    [Parameter("How long a deploy watches the new release after the switch (30, 90s, 2m); the previous one waits, running, until then. Default: each environment's own (staging 30s, production 2m); 0 turns the bake off")]
    readonly TimeSpan? BakeSeconds;

    [Parameter("Time between two samples of the new release's /metrics during the bake")]
    readonly TimeSpan BakeInterval = BakeDefaults.Interval;

    [Parameter("Bake rule: the largest share of 5xx responses (0 to 1) the new release may serve over the bake")]
    readonly double BakeMaxErrorRate = BakeDefaults.MaxErrorRate;

    [Parameter("Bake rule: the new release's p99 latency may be at most this multiple of the previous release's p99")]
    readonly double BakeLatencyRatio = BakeDefaults.MaxLatencyRatio;

    [Parameter("Bake rule: the p99 limit never goes below this, however fast the previous release was")]
    readonly TimeSpan BakeLatencyFloor = BakeDefaults.LatencyFloor;

    [Parameter("Paired judge: the confidence of its verdict over the whole bake (Mann-Whitney U on paired probe latencies, exact test on their errors)")]
    readonly double BakeConfidence = BakeDefaults.Confidence;

    [Parameter("Paired judge: the slowdown tolerated before the new release counts as slower (0.1 = 10 %)")]
    readonly double BakeToleratedShift = BakeDefaults.ToleratedShift;

    [Parameter("Paired judge: the most probe pairs (one request to each release) in a bake; 0 leaves the rails alone")]
    readonly int BakeProbeBudget = BakeDefaults.ProbeBudget;

    [Parameter("Paths the bake's probes request")]
    readonly string[] BakeProbePaths = [.. BakeDefaults.ProbePaths];

    [Parameter("Where the app serves Prometheus text; the bake reads it from the new release's container port")]
    readonly string BakeMetricsPath = "/metrics";

    /// <summary>The environment as the bake sees it: with the app's metrics path.</summary>
    DeployEnvironment Metered(DeployEnvironment environment)
    {
        var metered = environment with { MetricsPath = BakeMetricsPath };
        metered.Validate();
        return metered;
    }

    BakeSettings BakeFor(DeployEnvironment environment)
    {
        var duration = BakeSeconds ?? environment.BakeTime;
        if (duration == TimeSpan.Zero) return BakeSettings.Off;
        var bake = new BakeSettings
        {
            Duration = duration,
            Interval = BakeInterval,
            MaxErrorRate = BakeMaxErrorRate,
            MaxLatencyRatio = BakeLatencyRatio,
            LatencyFloor = BakeLatencyFloor,
            Confidence = BakeConfidence,
            ToleratedShift = BakeToleratedShift,
            ProbeBudget = BakeProbeBudget,
        };
        if (BakeProbePaths.Length > 0) bake = bake with { ProbePaths = BakeProbePaths };
        bake.Validate();
        return bake;
    }

    DeployOptions DeployOptionsFor(DeployEnvironment environment) => DeployOptions with { Bake = BakeFor(environment), ReleasePhase = ReleasePhaseFor(environment) };

    /// <summary>Deploys with the bake on the environment's site, and leaves the per-host table and, on CI, a deploy
    /// report in the job summary whether it passed or not.</summary>
    async Task<DeployOutcome> DeployAndReport(DeployEnvironment environment, PinnedImage release)
    {
        var deployer = DeployerOf(environment);
        try
        {
            var outcome = await Reported($"Deploy of {release.Version} to {environment.Name}",
                () => deployer.DeployAsync(Metered(environment), release, DeployOptionsFor(environment), CancellationToken));
            AddStepSummary(DeployReportOf(environment, release, outcome.Hosts, outcome.Bake, outcome.Release.Time,
                outcome.Timings.TryGetValue("switch", out var s) ? s : null, release.Version).ToMarkdown());
            if (outcome.Bake.Verdict == BakeVerdict.Pass) Log.Information($"bake {outcome.Bake}");
            return outcome;
        }
        catch (BakeFailedException failed)
        {
            AddStepSummary(DeployReportOf(environment, release, failed.Table.Select(r => r.Host).ToList(), failed.Report, failed.SwitchedAt, failed.SwitchDuration, failed.Report.RolledBackTo).ToMarkdown());
            throw;
        }
    }

    static DeployReport DeployReportOf(DeployEnvironment environment, PinnedImage release, IReadOnlyList<string> hosts, BakeReport bake, string? switchedAt, TimeSpan? switchTime, string? serving) =>
        new(environment.Name, release.Version, release.Digest, release.Commit, hosts, switchedAt, switchTime, bake, serving);

    /// <summary>The host's progress lines; the bake's samples are one live line on a terminal.</summary>
    static void DeployLog(string line)
    {
        if (line.StartsWith("bake: ", StringComparison.Ordinal)) Log.Progress(line);
        else Log.Output(line);
    }
}
