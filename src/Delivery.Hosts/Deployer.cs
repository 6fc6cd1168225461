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

    /// <summary>Checks that need no host: a bake, and a release phase's command timeout, must fit in the time the site lets one script run.</summary>
    public void CheckFits(DeployEnvironment environment, DeployOptions options)
    {
        if (site.SizesLifetimes || site.ScriptTimeLimit is not { } limit) return;
        // The command's own timeout must end it, not the site's script limit (that kills the script, not the command).
        if (options.ReleasePhase is { } phase && ReleasePhaseNeeds(phase, options).Total is var phaseNeeds && phaseNeeds > limit.Limit)
            throw new DeliveryException(
                $"The release phase on {environment.Name} can take {Seconds(phaseNeeds)} s (release command timeout {Seconds(phase.Timeout)} s + lock wait {Seconds(options.LockWait)} s), " +
                $"more than the {Seconds(limit.Limit)} s {site.Name} lets a script run; raise {limit.Parameter} or lower --release-command-timeout (nothing was sent)");
        if (!options.Bake.Enabled) return;
        var needed = ScriptNeeds(environment, options).Total;
        if (needed > limit.Limit)
            throw new DeliveryException(
                $"A deploy to {environment.Name} can take {Seconds(needed)} s (bake {Seconds(options.Bake.Duration)} s + health {Seconds(environment.HealthTimeout)} s + drain {Seconds(environment.DrainTimeout)} s + stop {Seconds(environment.StopTimeout)} s + lock wait {Seconds(options.LockWait)} s), " +
                $"more than the {Seconds(limit.Limit)} s {site.Name} lets a script run; raise {limit.Parameter} or lower --bake-seconds (nothing was sent)");
    }

    /// <summary>The release phase's own waits: its command's timeout and the environment's lock.</summary>
    static ScriptTime ReleasePhaseNeeds(ReleasePhaseSettings phase, DeployOptions options) => new(phase.Timeout, options.LockWait);

    /// <summary>The longest a deploy's (or, without a bake, a rollback's) own waits add up to on one host: health gate,
    /// bake, drain and stop, and the lock wait. A fleet adds a margin for pull, start and switch, and sizes its command from it.</summary>
    public static ScriptTime ScriptNeeds(DeployEnvironment environment, DeployOptions options) =>
        new(environment.HealthTimeout + (options.Bake.Enabled ? options.Bake.Duration : TimeSpan.Zero) + environment.DrainTimeout + environment.StopTimeout, options.LockWait);

    public async Task<DeployOutcome> DeployAsync(DeployEnvironment environment, PinnedImage release, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DeployOptions();
        CheckFits(environment, options);
        var fit = await site.CheckRollFitsAsync(ScriptNeeds(environment, options), cancellationToken);
        options = await WithRegistryAccessAsync(environment, options, cancellationToken);
        await CheckPullAsync(environment, release, options, cancellationToken);
        var phase = options.ReleasePhase is { } settings ? await ReleasePhaseAsync(environment, release, settings, options, cancellationToken) : null;
        var script = HostScripts.Deploy(Scripts, environment, release, options, phase);
        // Switching back after a failed or cancelled roll leaves maintenance as it was, and touches only hosts that
        // serve this release. It waits for a cancelled run's lock until the agent's SIGKILL makes it stale.
        var back = HostScripts.SwitchBack(Scripts, environment, release.Digest,
            options with { EndMaintenance = false, LockWait = options.LockWait > SwitchBackLockWait ? options.LockWait : SwitchBackLockWait });
        var outcome = await RollReleaseAsync(environment, script, $"Deploy of {release.Version} to {environment.Name}",
            $"nothing was deployed to {environment.Name}", back, options, fit, cancellationToken, release.Version);
        return outcome with { ReleasePhase = phase };
    }

    /// <summary>The options with where the site's hosts read the registry login, when the build has one for them.</summary>
    async Task<DeployOptions> WithRegistryAccessAsync(DeployEnvironment environment, DeployOptions options, CancellationToken cancellationToken)
    {
        if (options.RegistryCredential is not { } credential || options.RegistryAccess is not null) return options;
        credential.Validate();
        var access = await site.RegistryAccessAsync(environment, credential, cancellationToken);
        if (access is not null) log?.Invoke($"{site.Name} logs in to {access.Registry} with {access.CredentialParameter} (SecureString, read by each host with its own role)");
        return options with { RegistryAccess = access };
    }

    /// <summary>Before any host switches, every host of the site pulls the release (HostScripts.PullCheck). A host that
    /// cannot stops the deploy in one line per reason that names the fix; no host has switched.</summary>
    public async Task CheckPullAsync(DeployEnvironment environment, PinnedImage release, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DeployOptions();
        // Named as the deploy it starts: the site's own refusals (no such instance, offline ones) read as the deploy's.
        var runs = await site.QueryAsync(HostScripts.PullCheck(Scripts, environment, release, options), $"Deploy of {release.Version} to {environment.Name}",
            $"nothing was deployed to {environment.Name}", cancellationToken);
        var failed = runs.Where(r => !r.Succeeded).ToList();
        if (failed.Count == 0)
        {
            log?.Invoke($"{release.Version} is on {runs.Count} host(s) of {environment.Name}, pulled before any switch");
            return;
        }
        var registry = RegistryAccess.RegistryOf(release.Repository);
        var table = runs.Select(r => new HostRow(r.Host, r.Succeeded ? "pulled" : $"FAILED: pull check ({r.Output.PullFailure?.Reason.WireName() ?? r.Reason})", "-",
            "unchanged (nothing was switched)")).ToList();
        // A host that failed before it could try (no engine, not reached) is not a registry problem.
        if (failed.Where(f => f.Output.PullFailure is null).ToList() is { Count: > 0 } other)
            throw new SiteOperationException($"Deploy of {release.Version} to {environment.Name} failed on {string.Join("; ", other.Select(f => $"{f.Host}: {f.Reason}"))}; no host was switched", table);
        var reasons = failed.GroupBy(f => f.Output.PullFailure!.Reason)
            .Select(g => $"{g.Key.WireName()} on {string.Join(", ", g.Select(f => f.Host))}: {g.Key.Fix(registry, options.RegistryAccess)} (docker: {g.First().Output.PullFailure!.Detail})")
            .ToList();
        throw new RegistryPullException(
            $"{environment.Name} cannot pull {release.Version} from {registry}: {string.Join("; ", reasons)}; no host was switched",
            failed.Select(f => f.Output.PullFailure!.Reason).Distinct().ToList(), table);
    }

    /// <summary>Runs the release phase once, on the site's first host, before any host switches: a non-zero exit or a
    /// timeout stops the deploy in one line with the exit code and the last lines of output.</summary>
    async Task<ReleasePhaseResult> ReleasePhaseAsync(DeployEnvironment environment, PinnedImage release, ReleasePhaseSettings settings, DeployOptions options, CancellationToken cancellationToken)
    {
        var script = HostScripts.ReleasePhase(Scripts, environment, release, settings, options);
        var what = $"Release phase of {release.Version} on {environment.Name}";
        var needs = ReleasePhaseNeeds(settings, options);
        var first = await site.FirstHostAsync(HostScripts.Status(Scripts, environment), what, cancellationToken);
        var streamed = 0;
        var run = (await site.RunEachAsync([first], script, what, needs, line => { streamed++; Show(line); }, cancellationToken))[0];
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
        return RollReleaseAsync(environment, script, $"Rollback of {environment.Name}", $"nothing was rolled back on {environment.Name}", null, options,
            new RollFit(ScriptNeeds(environment, options with { Bake = Bake.BakeSettings.Off })), cancellationToken);
    }

    async Task<DeployOutcome> RollReleaseAsync(DeployEnvironment environment, string script, string what, string nothingDone, string? switchBack,
        DeployOptions options, RollFit fit, CancellationToken cancellationToken, string? releaseVersion = null)
    {
        var watch = Stopwatch.StartNew();
        IReadOnlyList<HostRun> all;
        long signalled = 0;
        using (cancellationToken.Register(() => Interlocked.CompareExchange(ref signalled, Stopwatch.GetTimestamp(), 0)))
        {
            try
            {
                all = await site.RollAsync(script, what, nothingDone, fit, Show, cancellationToken);
            }
            catch (RollCancelledException cancelled)
            {
                throw await UndoCancelledAsync(environment, what, switchBack, cancelled, Interlocked.Read(ref signalled) is not 0 and var at ? at : Stopwatch.GetTimestamp(), options, releaseVersion);
            }
        }
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

    /// <summary>How long a switch-back waits for the lock of a run the agent is killing (then it is stale).</summary>
    public static readonly TimeSpan SwitchBackLockWait = TimeSpan.FromSeconds(10);

    /// <summary>A roll cancelled by Ctrl-C or the runner's SIGINT/SIGTERM: every host that ran the deploy is switched
    /// back at once (the guard in the switch-back script leaves alone a host whose killed run never switched), within
    /// what is left of <see cref="DeployOptions.SignalGrace"/>. Prints one line per host saying where it is; a host
    /// whose switch-back did not finish in time keeps it running and is named. Returns the exception to throw.</summary>
    async Task<SiteOperationException> UndoCancelledAsync(DeployEnvironment environment, string what, string? switchBack, RollCancelledException cancelled,
        long signalledAt, DeployOptions options, string? releaseVersion)
    {
        var reached = cancelled.Runs.Where(r => r.Reached).ToList();
        var left = options.SignalGrace - options.ExitReserve - Stopwatch.GetElapsedTime(signalledAt);
        var back = new Dictionary<string, HostRun>(StringComparer.Ordinal);
        string? stillRunning = null, failure = null;
        if (switchBack is not null && reached.Count > 0)
        {
            if (left <= TimeSpan.Zero) failure = $"no time left of the {Seconds(options.SignalGrace)} s after the signal";
            else
            {
                log?.Invoke($"{what} cancelled ({cancelled.Where}); switching {string.Join(", ", reached.Select(r => r.Host))} back at once, " +
                            $"within {left.TotalSeconds:0.0} s of the {options.SignalGrace.TotalSeconds:0.#} s before SIGTERM");
                using var deadline = new CancellationTokenSource(left);
                try
                {
                    foreach (var r in await site.RunAllAtOnceAsync(reached.Select(r => r.Host).ToList(), switchBack, $"Switch-back of {environment.Name}", Show, deadline.Token))
                        back[r.Host] = r;
                }
                catch (RollCancelledException late)
                {
                    stillRunning = late.Where;
                    foreach (var r in late.Runs) back[r.Host] = r;
                }
                catch (DeliveryException e)
                {
                    failure = e.Message;
                }
            }
        }

        var rows = new List<HostRow>();
        var lines = new List<string>();
        foreach (var r in cancelled.Runs.Where(r => !r.Skipped))
        {
            // A run that finished between the last poll and the cancel has no output collected: its release is this one.
            var newVersion = r.Output.Release?.Version ?? (r.Succeeded ? releaseVersion : null);
            var was = !r.Reached ? "not reached" : r.Succeeded ? $"deployed {newVersion ?? "the release"} before the cancel" : $"cancelled while running ({r.Reason})";
            var (line, row) = (r.Reached, switchBack, back.GetValueOrDefault(r.Host)) switch
            {
                (false, _, _) => ("not reached before the cancel; untouched", new HostRow(r.Host, "not reached", "-", "untouched")),
                (true, null, _) => (was, new HostRow(r.Host, was, "-", r.Succeeded ? newVersion ?? "?" : "?")),
                (true, _, null) => ($"{was}; NOT switched back: {failure ?? "no switch-back ran"}; it serves what that run left (health-gated)",
                    new HostRow(r.Host, was, $"FAILED: {failure}", r.Succeeded ? newVersion ?? "?" : "?")),
                (true, _, { Succeeded: true } b) when b.Output.Release is { } rel =>
                    ($"{was}; switched back to {rel.Version}", new HostRow(r.Host, was, "switched back", rel.Version)),
                (true, _, { Succeeded: true, Result.Lines.Count: 0 }) =>
                    ($"{was}; switch-back finished as the time ran out, before its result was read ({stillRunning}); check with ./build.sh Status",
                     new HostRow(r.Host, was, $"finished, not read ({stillRunning})", "?")),
                (true, _, { Succeeded: true } b) =>
                    ($"{was}; its deploy never switched, so nothing to switch back; serves {b.Output.Status(environment).Version ?? "nothing"}",
                     new HostRow(r.Host, was, "not needed", b.Output.Status(environment).Version ?? "-")),
                (true, _, { Unfinished: true }) =>
                    ($"{was}; switch-back NOT finished before SIGTERM would come ({stillRunning} keeps running it); until it ends it serves " +
                     (r.Succeeded ? $"{newVersion}, which passed its health gate" : "whichever release its killed run left, both health-gated"),
                     new HostRow(r.Host, was, $"still running ({stillRunning})", r.Succeeded ? newVersion ?? "?" : "?")),
                (true, _, { } b) => ($"{was}; switching back FAILED: {b.Reason}; it keeps the health-gated release it serves",
                    new HostRow(r.Host, was, $"FAILED: {b.Reason}", r.Succeeded ? newVersion ?? "?" : "?")),
            };
            lines.Add($"{r.Host}: {line}");
            rows.Add(row);
        }
        foreach (var line in lines) log?.Invoke(line);
        rows.AddRange(cancelled.Runs.Where(r => r.Skipped).Select(r => new HostRow(r.Host, $"skipped: {r.Reason}", "-", "untouched")));

        string Hosts(Func<HostRow, bool> which) => string.Join(", ", rows.Where(which).Select(r => r.Host));
        var parts = new List<string>();
        if (Hosts(r => r.SwitchBack == "switched back") is { Length: > 0 } s1) parts.Add($"switched back: {s1}");
        if (Hosts(r => r.SwitchBack == "not needed") is { Length: > 0 } s2) parts.Add($"never switched: {s2}");
        if (Hosts(r => r.SwitchBack.StartsWith("still running", StringComparison.Ordinal)) is { Length: > 0 } s3) parts.Add($"switch-back still running: {s3}");
        if (Hosts(r => r.SwitchBack.StartsWith("FAILED", StringComparison.Ordinal)) is { Length: > 0 } s4) parts.Add($"switch-back FAILED: {s4}");
        if (Hosts(r => r.SwitchBack.StartsWith("finished, not read", StringComparison.Ordinal)) is { Length: > 0 } s7) parts.Add($"switch-back finished, result not read: {s7}");
        if (switchBack is null && Hosts(r => r.Did != "not reached") is { Length: > 0 } s5) parts.Add($"reached: {s5}");
        if (Hosts(r => r.Did == "not reached") is { Length: > 0 } s6) parts.Add($"untouched: {s6}");
        return new SiteOperationException($"{what} was cancelled{(parts.Count > 0 ? "; " + string.Join("; ", parts) : "")}", rows);
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

/// <summary>Some hosts cannot pull the release: the deploy stopped before any switch, for these typed reasons.</summary>
public sealed class RegistryPullException(string message, IReadOnlyList<RegistryFailure> reasons, IReadOnlyList<HostRow> table)
    : SiteOperationException(message, table)
{
    public IReadOnlyList<RegistryFailure> Reasons { get; } = reasons;
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
