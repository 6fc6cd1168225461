using BuildGraph;
using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Bake;

/// <summary>The bake: after the switch a deploy watches the new release and rolls back by itself on a breach.</summary>
partial class Build
{
    [Parameter("Seconds a deploy watches the new release after the switch; the previous one waits, running, until then (default 30 on staging, 120 on production; 0 turns the bake off)")]
    readonly int? BakeSeconds;

    [Parameter("Seconds between two samples of the new release's /metrics during the bake")]
    readonly double BakeInterval = 3;

    [Parameter("Bake rule: the largest share of 5xx responses (0 to 1) the new release may serve over the bake")]
    readonly double BakeMaxErrorRate = 0.01;

    [Parameter("Bake rule: the new release's p99 latency may be at most this multiple of the previous release's p99")]
    readonly double BakeLatencyRatio = 2;

    [Parameter("Bake rule: seconds the p99 limit never goes below, however fast the previous release was")]
    readonly double BakeLatencyFloor = 0.25;

    [Parameter("Synthetic requests the bake sends the new release per interval, cycling over --bake-probe-paths (0: none)")]
    readonly int BakeProbes = 10;

    [Parameter("Paths the bake's probes request (default: /, /cloud, /best-practices, /version)")]
    readonly string[]? BakeProbePaths;

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
        var seconds = BakeSeconds ?? (environment.Name == DeployEnvironment.Production.Name ? 120 : 30);
        if (seconds < 0) throw new DeliveryException($"--bake-seconds must be 0 (off) or more, not {seconds}");
        if (seconds == 0) return BakeSettings.Off;
        var bake = new BakeSettings
        {
            Duration = TimeSpan.FromSeconds(seconds),
            Interval = TimeSpan.FromSeconds(BakeInterval),
            MaxErrorRate = BakeMaxErrorRate,
            MaxLatencyRatio = BakeLatencyRatio,
            LatencyFloor = TimeSpan.FromSeconds(BakeLatencyFloor),
            ProbesPerInterval = BakeProbes,
        };
        if (BakeProbePaths is { Length: > 0 } paths) bake = bake with { ProbePaths = paths };
        bake.Validate();
        return bake;
    }

    /// <summary>Deploys with the bake, and on CI leaves a deploy report in the job summary whether it passed or not.</summary>
    async Task<DeployOutcome> DeployAndReport(DeployEnvironment environment, Release release)
    {
        var options = DeployOptions with { Bake = BakeFor(environment) };
        try
        {
            var outcome = await Deployer.DeployAsync(Metered(environment), release, options, CancellationToken);
            AddStepSummary(DeployReportOf(environment, release, outcome.Bake, outcome.Release.Time,
                outcome.Timings.TryGetValue("switch", out var s) ? s : null, release.Version).ToMarkdown());
            if (outcome.Bake.Verdict == BakeVerdict.Pass) Log.Information($"bake {outcome.Bake}");
            return outcome;
        }
        catch (BakeFailedException failed)
        {
            AddStepSummary(DeployReportOf(environment, release, failed.Report, failed.SwitchedAt, failed.SwitchDuration, failed.Report.RolledBackTo).ToMarkdown());
            throw;
        }
    }

    DeployReport DeployReportOf(DeployEnvironment environment, Release release, BakeReport bake, string? switchedAt, TimeSpan? switchTime, string? serving) =>
        new(environment.Name, release.Version, release.Digest, release.Commit, [Deployer.Host.Name], switchedAt, switchTime, bake, serving);

    /// <summary>The host's progress lines; the bake's samples are one live line on a terminal.</summary>
    static void DeployLog(string line)
    {
        if (line.StartsWith("bake: ", StringComparison.Ordinal)) Log.Progress(line);
        else Log.Output(line);
    }
}
