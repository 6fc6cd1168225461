using System.Diagnostics;
using Delivery.Core;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Sites;

namespace Delivery.Hosts;

/// <summary>
/// Every operation on an environment, written once above its <see cref="Site"/>: deploy, rollback, status, logs,
/// teardown, force-unlock, and the promotion check. Each runs the rendered host scripts on every host of the site
/// with the site's rolling rules and reads their output through the one <see cref="HostOutput"/> reader. A failure
/// stops the roll and is reported per host (<see cref="SiteOperationException.Table"/>).
/// </summary>
public sealed class Deployer(Site site, HostSettings settings, Action<string>? log = null)
{
    public Deployer(IDeployHost host, HostSettings settings, Action<string>? log = null) : this(new ThisMachine(host), settings, log) { }

    public Site Site => site;
    public HostSettings Settings => settings;
    HostSettings Scripts => site.ScriptSettings(settings);
    ReleaseLedger Ledger => site.Ledger(Scripts);

    /// <summary>Checks that need no host: a bake must fit in the time the site lets one script run.</summary>
    public void CheckFits(DeployEnvironment environment, DeployOptions options)
    {
        if (site.ScriptTimeLimit is not { } limit || !options.Bake.Enabled) return;
        var needed = options.Bake.Duration + environment.HealthTimeout + environment.DrainTimeout + options.LockWait;
        if (needed > limit.Limit)
            throw new DeliveryException(
                $"A deploy to {environment.Name} can take {Seconds(needed)} s (bake {Seconds(options.Bake.Duration)} s + health {Seconds(environment.HealthTimeout)} s + drain {Seconds(environment.DrainTimeout)} s + lock wait {Seconds(options.LockWait)} s), " +
                $"more than the {Seconds(limit.Limit)} s {site.Name} lets a script run; raise {limit.Parameter} or lower --bake-seconds (nothing was sent)");
    }

    public async Task<DeployOutcome> DeployAsync(DeployEnvironment environment, PinnedImage release, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DeployOptions();
        CheckFits(environment, options);
        var phase = options.ReleasePhase is { } settings ? await ReleasePhaseAsync(environment, release, settings, options, cancellationToken) : null;
        var script = HostScripts.Deploy(Scripts, environment, release, options, phase);
        // Switching back after a failed roll leaves maintenance as it was.
        var back = HostScripts.Rollback(Scripts, environment, null, options with { EndMaintenance = false });
        var outcome = await RollReleaseAsync(environment, script, $"Deploy of {release.Version} to {environment.Name}",
            $"nothing was deployed to {environment.Name}", back, options, cancellationToken);
        return outcome with { ReleasePhase = phase };
    }

    /// <summary>Runs the release phase once, on the site's first host, before any host switches: a non-zero exit or a
    /// timeout stops the deploy in one line with the exit code and the last lines of output.</summary>
    async Task<ReleasePhaseResult> ReleasePhaseAsync(DeployEnvironment environment, PinnedImage release, ReleasePhaseSettings settings, DeployOptions options, CancellationToken cancellationToken)
    {
        var script = HostScripts.ReleasePhase(Scripts, environment, release, settings, options);
        var what = $"Release phase of {release.Version} on {environment.Name}";
        var first = await site.FirstHostAsync(HostScripts.Status(Scripts, environment), what, cancellationToken);
        var streamed = 0;
        var run = (await site.RunEachAsync([first], script, what, line => { streamed++; Show(line); }, cancellationToken))[0];
        // A site that hands a host's output over only once its script ends (SSM) streamed nothing, and shows it only
        // for a host that failed: a passed command's output goes to the build's log now, so it is there whatever the site.
        if (streamed == 0 && run.Succeeded) foreach (var line in run.Result.Lines) Show(line);
        if (!run.Succeeded)
            throw new SiteOperationException($"{what} failed on {run.Host}: {run.Result.Error ?? run.Reason}",
                [new HostRow(run.Host, "FAILED: release phase", "-", "unchanged (nothing was switched)")]);
        var result = run.Output.ReleasePhase ?? throw new DeliveryException($"{what} on {run.Host} finished without reporting its exit code: {run.Result.Tail()}");
        log?.Invoke($"release phase passed on {run.Host} in {result.Duration.TotalSeconds:0.0} s");
        return result;
    }

    /// <summary>Returns every host to the previous release, or to <paramref name="toVersion"/> (it must still be retained
    /// there). A failure stops the roll; every host is left on a working release and the table says which.</summary>
    public Task<DeployOutcome> RollbackAsync(DeployEnvironment environment, string? toVersion = null, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DeployOptions();
        var script = HostScripts.Rollback(Scripts, environment, toVersion, options);
        return RollReleaseAsync(environment, script, $"Rollback of {environment.Name}", $"nothing was rolled back on {environment.Name}", null, options, cancellationToken);
    }

    async Task<DeployOutcome> RollReleaseAsync(DeployEnvironment environment, string script, string what, string nothingDone, string? switchBack,
        DeployOptions options, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var all = await site.RollAsync(script, what, nothingDone, Show, cancellationToken);
        var skipped = all.Where(r => r.Skipped).ToList();
        var skippedRows = skipped.Select(r => new HostRow(r.Host, $"skipped: {r.Reason}", "-", "untouched")).ToList();
        var runs = all.Where(r => !r.Skipped).ToList();
        var failed = runs.Where(r => r.Reached && !r.Succeeded).ToList();
        var unreached = runs.Where(r => !r.Reached).Select(r => r.Host).ToList();
        if (failed.Count == 0 && unreached.Count == 0)
        {
            var outcomes = runs.Select(r => (r.Host, Outcome: Outcome(r, what, watch.Elapsed))).ToList();
            var first = outcomes[0].Outcome;
            var table = outcomes.Select(o => new HostRow(o.Host, Did(what, o.Outcome.Bake), "-", o.Outcome.Release.Version)).Concat(skippedRows).ToList();
            var recorded = await Ledger.RecordAsync(environment, new RecordedRelease(
                new PinnedImage(first.Release.Version, first.Release.Image.Split('@')[0], first.Release.Digest, Empty(first.Release.Commit)),
                first.Release.DeployedBy, first.Release.Time, runs.Select(r => r.Host).ToList(), Unattested: first.Release.Unattested,
                Skipped: skipped.Count > 0 ? skipped.Select(r => $"{r.Host} ({r.Reason})").ToList() : null), cancellationToken);
            if (recorded is not null) log?.Invoke(recorded);
            return first with { Total = watch.Elapsed, Table = table, Hosts = outcomes.Select(o => o.Host).ToList() };
        }

        var switched = runs.Where(r => r.Succeeded).ToList();
        var back = new Dictionary<string, HostRun>(StringComparer.Ordinal);
        if (switchBack is not null && switched.Count > 0)
        {
            log?.Invoke($"{what} stopped; switching {string.Join(", ", switched.Select(r => r.Host))} back to the previous release");
            foreach (var r in await site.RunEachAsync(switched.Select(s => s.Host).ToList(), switchBack, $"Rollback of {environment.Name}", Show, CancellationToken.None))
                back[r.Host] = r;
        }

        var rows = new List<HostRow>();
        foreach (var r in runs.Where(r => r.Reached))
        {
            if (r.Succeeded)
            {
                var version = r.Output.Release?.Version ?? "?";
                var b = back.GetValueOrDefault(r.Host);
                rows.Add(new HostRow(r.Host, Did(what, r.Output.Bake),
                    switchBack is null ? "-" : b is null ? "not run" : b.Succeeded ? "switched back" : $"FAILED: {b.Reason}",
                    b is { Succeeded: true } ? b.Output.Release?.Version ?? "previous" : version));
            }
            else
            {
                var bake = r.Output.Bake;
                rows.Add(new HostRow(r.Host, $"FAILED: {r.Reason}", "-", bake is { Verdict: BakeVerdict.Fail }
                    ? $"{bake.RolledBackTo ?? "previous"} (its bake switched it back)"
                    : "unchanged (its own health gate kept the old release)"));
            }
        }
        rows.AddRange(unreached.Select(id => new HostRow(id, "not reached", "-", "untouched")));
        rows.AddRange(skippedRows);
        if (switchBack is null) rows = await WithServingAsync(environment, rows);

        var message = failed.Count > 0
            ? $"{what} failed on {string.Join("; ", failed.Select(f => $"{f.Host}: {f.Reason}"))}"
            : $"{what} did not reach {string.Join(", ", unreached)}";
        if (switched.Count > 0)
            message += switchBack is null
                ? $"; done on {string.Join(", ", switched.Select(s => s.Host))}"
                : back.Values.All(b => b.Succeeded)
                    ? $"; switched back: {string.Join(", ", switched.Select(s => s.Host))}"
                    : $"; switching back FAILED on {string.Join(", ", back.Values.Where(b => !b.Succeeded).Select(b => b.Host))}";
        if (unreached.Count > 0 && failed.Count > 0) message += $"; untouched: {string.Join(", ", unreached)}";

        if (failed.Select(f => (Run: f, Bake: f.Output.Bake)).FirstOrDefault(f => f.Bake is { Verdict: BakeVerdict.Fail }) is { Bake: { } report } bakeFailure)
        {
            var switchMs = bakeFailure.Run.Output.Timings.TryGetValue("switch", out var s) ? s : (TimeSpan?)null;
            throw new BakeFailedException(message, report, bakeFailure.Run.Output.SwitchedAt, switchMs) { Table = rows };
        }
        throw new SiteOperationException(message, rows);
    }

    /// <summary>Where a stopped roll left each host: what its status says it serves now (a rollback's hosts are each on
    /// a working release, the old or the rolled-back one).</summary>
    async Task<List<HostRow>> WithServingAsync(DeployEnvironment environment, List<HostRow> rows)
    {
        try
        {
            var runs = await site.QueryAsync(HostScripts.Status(Scripts, environment), $"Status of {environment.Name}", CancellationToken.None);
            var serving = runs.Where(r => r.Succeeded).ToDictionary(r => r.Host, r => r.Output.Status(environment).Version);
            return rows.Select(r => serving.TryGetValue(r.Host, out var v) && v is not null && r.Serves != v
                ? r with { Serves = r.Serves.Length > 0 && r.Serves != "?" ? $"{v} ({r.Serves.Split(' ')[0]})" : v }
                : r).ToList();
        }
        catch (DeliveryException)
        {
            return rows;
        }
    }

    static string Did(string what, BakeReport? bake)
    {
        var verb = what.StartsWith("Rollback", StringComparison.Ordinal) ? "rolled back" : "deployed";
        return bake is { Verdict: not BakeVerdict.Off } b ? $"{verb}, bake {b}" : verb;
    }

    /// <summary>What the environment serves, as the first host sees it (the only one on this machine).</summary>
    public async Task<EnvironmentStatus> StatusAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
        (await SiteStatusAsync(environment, cancellationToken)).Hosts[0].Status
        ?? throw new DeliveryException($"Status of {environment.Name} failed on {site.Name}");

    /// <summary>Every host's view of the environment, and the ledger's record it is compared with.</summary>
    public async Task<SiteStatus> SiteStatusAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var record = await Ledger.GetAsync(environment, cancellationToken);
        var runs = await site.QueryAsync(HostScripts.Status(Scripts, environment), $"Status of {environment.Name}", cancellationToken);
        return new SiteStatus(environment, record, runs.Select(r => r.Succeeded
            ? new HostStatus(r.Host, r.Output.Status(environment), null)
            : new HostStatus(r.Host, null, r.Reason)).ToList());
    }

    /// <summary>Every host's check of every retained rollback target of the environment.</summary>
    public async Task<IReadOnlyList<(string Host, RollbackTargetCheck Check)>> VerifyRollbackAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var what = $"Rollback check of {environment.Name}";
        return Checked(await site.QueryAsync(HostScripts.VerifyRollback(Scripts, environment), what, cancellationToken), what)
            .SelectMany(r => r.Output.RollbackChecks.Select(c => (r.Host, c))).ToList();
    }

    public async Task<IReadOnlyList<ReleaseRecord>> HistoryAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
        Checked(await site.QueryAsync(HostScripts.History(Scripts, environment), $"History of {environment.Name}", cancellationToken), $"History of {environment.Name}")[0].Output.History;

    /// <summary>Whether every host of <paramref name="source"/> saw <paramref name="digest"/> pass its health gate (and
    /// not fail its bake): the evidence for promoting it elsewhere. The first host's evidence, with every host's problems.</summary>
    public async Task<PromotionEvidence> PromotionEvidenceAsync(DeployEnvironment source, string digest, CancellationToken cancellationToken = default)
    {
        var all = await PromotionEvidenceEverywhereAsync(source, digest, cancellationToken);
        return all.Select(e => e.Evidence).FirstOrDefault(e => e is not null) is { } first
            ? first with { Verified = all.All(e => e.Evidence is { Verified: true }) }
            : throw new DeliveryException($"Promotion check on {source.Name} failed: {string.Join("; ", all.Select(e => $"{e.Host}: {e.Problem}"))}");
    }

    public async Task<IReadOnlyList<(string Host, PromotionEvidence? Evidence, string? Problem)>> PromotionEvidenceEverywhereAsync(
        DeployEnvironment source, string digest, CancellationToken cancellationToken = default)
    {
        var runs = await site.QueryAsync(HostScripts.Evidence(Scripts, source), $"Promotion check on {source.Name}", cancellationToken);
        return runs.Select(r => r.Succeeded
            ? (r.Host, (PromotionEvidence?)r.Output.Evidence(source, digest), (string?)null)
            : (r.Host, null, r.Reason)).ToList();
    }

    /// <summary>The release to promote from <paramref name="source"/>: <paramref name="release"/> when given, else what the
    /// source's ledger records; refused unless every host of the source verified it (<see cref="PromotionRules"/>).</summary>
    public async Task<PinnedImage> PromotableAsync(DeployEnvironment source, PinnedImage? release, bool allowUnverified, CancellationToken cancellationToken = default)
    {
        if (release is null)
        {
            var recorded = await Ledger.GetAsync(source, cancellationToken)
                           ?? throw new DeliveryException($"{Ledger.NothingRecorded(source)}: run ./build.sh Deploy{Title(source)} first, or pass --promote-version X.Y.Z");
            release = recorded.Image;
        }
        var evidence = await PromotionEvidenceEverywhereAsync(source, release.Digest, cancellationToken);
        var unverified = evidence.Where(e => e.Evidence is not { Verified: true }).ToList();
        if (unverified.Count == 0)
        {
            log?.Invoke($"{Title(source)} evidence: {release.Version} ({release.ShortDigest}) passed the health gate on {string.Join(", ", evidence.Select(e => e.Host))}");
            return release;
        }
        var detail = string.Join(", ", unverified.Select(e => $"{e.Host}: {e.Problem ?? (e.Evidence?.LastRecord?.Action == PromotionRules.BakeFailedAction ? "failed its bake" : "never passed the health gate")}"));
        if (!allowUnverified)
            throw new DeliveryException($"{release.Version} ({release.ShortDigest}) is not verified on {source.Name} ({detail}); deploy it to {source.Name} first, or pass --allow-unverified");
        log?.Invoke($"warning: promoting {release.Version} although {source.Name} did not verify it ({detail}) (--allow-unverified)");
        return release;
    }

    /// <summary>The last <paramref name="lines"/> log lines of the environment's container on every host.</summary>
    public async Task<IReadOnlyList<HostLine>> LogsAsync(DeployEnvironment environment, int lines = 100, CancellationToken cancellationToken = default)
    {
        var what = $"Logs of {environment.Name}";
        var runs = Checked(await site.QueryAsync(HostScripts.Logs(Scripts, environment, lines), what, cancellationToken), what);
        return runs.SelectMany(r => r.Result.Lines
            .Where(l => l.StartsWith(ScriptLibrary.LogMarker, StringComparison.Ordinal) || l.StartsWith("webapp-deploy: [output shortened", StringComparison.Ordinal))
            .Select(l => new HostLine(r.Host, l.StartsWith(ScriptLibrary.LogMarker, StringComparison.Ordinal) ? l[ScriptLibrary.LogMarker.Length..] : l[ScriptLibrary.Marker.Length..]))).ToList();
    }

    /// <summary>Removes the environment from every host, then its ledger record.</summary>
    public async Task TeardownAsync(DeployEnvironment environment, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        var what = $"Teardown of {environment.Name}";
        await RollAsync(HostScripts.Teardown(Scripts, environment, options ?? new DeployOptions()), what, $"nothing was removed from {environment.Name}", cancellationToken);
        if (await Ledger.RemoveAsync(environment, cancellationToken) is { } removed) log?.Invoke(removed);
    }

    /// <summary>Removes every environment of this app from every host and stops the proxy.</summary>
    public async Task TeardownAllAsync(DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        await RollAsync(HostScripts.TeardownAll(Scripts, DeployEnvironment.All, options ?? new DeployOptions()), "Teardown of all environments", "nothing was removed", cancellationToken);
        foreach (var environment in DeployEnvironment.All)
            if (await Ledger.RemoveAsync(environment, cancellationToken) is { } removed) log?.Invoke(removed);
    }

    public Task ForceUnlockAsync(DeployEnvironment environment, DeployOptions? options = null, CancellationToken cancellationToken = default) =>
        RollAsync(HostScripts.ForceUnlock(Scripts, environment, options ?? new DeployOptions()), $"Force-unlock of {environment.Name}", "nothing was unlocked", cancellationToken);

    /// <summary>Starts the proxy from its on-disk configuration where it is not running (after a reboot, for example).</summary>
    public Task EnsureProxyAsync(CancellationToken cancellationToken = default) =>
        RollAsync(HostScripts.EnsureProxy(Scripts), "Proxy start", "nothing was started", cancellationToken);

    /// <summary>Runs a script with the rolling rules; a failure anywhere fails the operation, per host.</summary>
    public async Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, CancellationToken cancellationToken = default)
    {
        var runs = await site.RollAsync(script, what, nothingDone, Show, cancellationToken);
        var failed = runs.Where(r => !r.Succeeded).ToList();
        if (failed.Count == 0) return runs;
        var rows = runs.Select(r => new HostRow(r.Host, r.Succeeded ? "done" : r.Reached ? $"FAILED: {r.Reason}" : "not reached", "-", "")).ToList();
        var reached = failed.Where(f => f.Reached).ToList();
        throw new SiteOperationException(reached.Count > 0
            ? $"{what} failed on {string.Join("; ", reached.Select(f => $"{f.Host}: {f.Reason}"))}" +
              (failed.Count > reached.Count ? $"; untouched: {string.Join(", ", failed.Where(f => !f.Reached).Select(f => f.Host))}" : "")
            : $"{what} did not reach {string.Join(", ", failed.Select(f => f.Host))}", rows);
    }

    static IReadOnlyList<HostRun> Checked(IReadOnlyList<HostRun> runs, string what) =>
        runs.Where(r => !r.Succeeded).ToList() is { Count: > 0 } failed
            ? throw new SiteOperationException($"{what} failed on {string.Join("; ", failed.Select(f => $"{f.Host}: {f.Reason}"))}",
                runs.Select(r => new HostRow(r.Host, r.Succeeded ? "done" : $"FAILED: {r.Reason}", "-", "")).ToList())
            : runs;

    DeployOutcome Outcome(HostRun run, string what, TimeSpan total)
    {
        var output = run.Output;
        var release = output.Release
            ?? throw new DeliveryException($"{what} on {run.Host} finished without recording a release: {run.Result.Tail()}");
        return new DeployOutcome(release, output.PreviousVersion, output.Timings, total, run.Result.Lines) { Bake = output.Bake ?? BakeReport.Off };
    }

    void Show(string line)
    {
        if (log is null || line.StartsWith(ScriptLibrary.DataMarker, StringComparison.Ordinal)) return;
        log(line.StartsWith(ScriptLibrary.Marker, StringComparison.Ordinal) ? line[ScriptLibrary.Marker.Length..] : line);
    }

    static string Title(DeployEnvironment environment) => char.ToUpperInvariant(environment.Name[0]) + environment.Name[1..];
    static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
    static string? Empty(string? s) => string.IsNullOrEmpty(s) || s == "unknown" ? null : s;
}

/// <summary>One host's line of an operation's table: what it did, whether it was switched back, what it serves now.</summary>
public sealed record HostRow(string Host, string Did, string SwitchBack, string Serves);

/// <summary>A log line and the host it came from.</summary>
public sealed record HostLine(string Host, string Line);

/// <summary>An operation that did not complete on every host: the roll stopped, and the table says where each host is.</summary>
public class SiteOperationException(string message, IReadOnlyList<HostRow> table) : DeliveryException(message)
{
    public IReadOnlyList<HostRow> Table { get; init; } = table;
}

/// <summary>What every host of a site serves, and the ledger's record it is compared with.</summary>
public sealed record SiteStatus(DeployEnvironment Environment, RecordedRelease? Record, IReadOnlyList<HostStatus> Hosts)
{
    public IEnumerable<string> Drifting => Hosts.Where(h => h.Drifts(Record)).Select(h => h.Host);
}

/// <summary>One host's view of an environment, or why it could not tell.</summary>
public sealed record HostStatus(string Host, EnvironmentStatus? Status, string? Problem)
{
    /// <summary>True when a record exists and the host serves another digest.</summary>
    public bool Drifts(RecordedRelease? record) => record is not null && Status?.Digest != record.Image.Digest;

    /// <summary>Retained releases a rollback can return to (the serving one excluded).</summary>
    public IReadOnlyList<string> RollbackTargets => Status is null ? [] :
        Status.Retained.Where(r => r.Digest != Status.Digest).Select(r => r.Version).Distinct().ToList();
}
