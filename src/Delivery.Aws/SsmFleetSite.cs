using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Sites;

namespace Delivery.Aws;

/// <summary>
/// An environment's EC2 instances, reached through SSM Run Command: every operation's script goes to all targets
/// with SSM's own rate control (MaxConcurrency, MaxErrors), and the release record lives in Parameter Store. The
/// instances read their own host configuration (ConfigureHost writes it), so one script text serves the fleet.
/// </summary>
public sealed class SsmFleetSite(SsmClient ssm, SsmTargets targets, FleetOptions options, string app, Action<string>? log = null,
    string? registryCredentialKey = null) : Site
{
    public SsmTargets Targets => targets;
    public FleetOptions Options => options;

    public override string Name => targets.ToString();

    public override string Reaches => $"{targets} through {ssm.Endpoint}";

    public override async Task<string> DescribeHostsAsync(CancellationToken cancellationToken = default)
    {
        var count = targets.InstanceIds?.Count ?? (await QueryAsync("true\n", "Count of the targets", cancellationToken)).Count;
        return $"{count} instance{(count == 1 ? "" : "s")} ({targets})";
    }

    public override HostSettings ScriptSettings(HostSettings settings) =>
        settings with { StateRoot = HostSettings.DefaultStateRoot, ReadsHostConfig = true };

    public override ReleaseLedger Ledger(HostSettings settings) => new ParameterStoreLedger(new ReleaseParameters(ssm, app));

    /// <summary>The instances have no standing registry login: the credential goes to a SecureString they read with the instance role.</summary>
    public override async Task<RegistryAccess?> RegistryAccessAsync(DeployEnvironment environment, RegistryCredential credential, CancellationToken cancellationToken) =>
        await new RegistryCredentialParameters(ssm, app, registryCredentialKey).PutAsync(environment, credential, cancellationToken);

    /// <summary>The execution timeout of operations whose lifetimes are not sized (all of them with fixed lifetimes).</summary>
    public override (TimeSpan Limit, string Parameter)? ScriptTimeLimit =>
        (TimeSpan.FromSeconds(options.ExecutionTimeoutSeconds), "--execution-timeout");

    /// <summary>Deploys and rollbacks size their lifetimes (FleetLifetimes refuses, before sending, what SSM cannot
    /// hold) unless --execution-timeout or --delivery-timeout fixed them.</summary>
    public override bool SizesLifetimes => !options.FixedLifetimes;

    public override Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, Action<string>? live, CancellationToken cancellationToken) =>
        RollAsync(script, what, nothingDone, options, cancellationToken);

    /// <summary>The command's TimeoutSeconds, executionTimeout and the build's deadline follow from the fleet's size and
    /// <paramref name="scriptTime"/>, unless --execution-timeout or --delivery-timeout fixed them: sized here, once,
    /// and sent as they are by the roll (<see cref="SizedRoll"/>).</summary>
    public override async Task<RollFit> CheckRollFitsAsync(ScriptTime scriptTime, CancellationToken cancellationToken)
    {
        if (options.FixedLifetimes) return new RollFit(scriptTime);
        var count = targets.InstanceIds?.Count ?? (await new SsmFleet(ssm, targets, options, log).PreflightAsync(cancellationToken)).Online.Count;
        if (count == 0) return new RollFit(scriptTime); // the roll itself says that nothing matched
        var sized = SizedFor(scriptTime);
        return new SizedRoll(scriptTime, FleetLifetimes.For(count, sized.MaxConcurrency, sized.PerInstanceBudget!.Value, sized.MustFinishWithin, sized.LockWait));
    }

    /// <summary>The options a script needing <paramref name="scriptTime"/> per instance is sent with: lifetimes sized from
    /// it (and sent as <paramref name="lifetimes"/> when already sized), unless --execution-timeout or --delivery-timeout
    /// fixed them.</summary>
    FleetOptions SizedFor(ScriptTime scriptTime, FleetLifetimes? lifetimes = null) => options.FixedLifetimes ? options
        : options with { PerInstanceBudget = FleetLifetimes.PerInstance(scriptTime.Steps, TimeSpan.Zero), LockWait = scriptTime.LockWait, Lifetimes = lifetimes };

    /// <summary>The lifetimes <see cref="CheckRollFitsAsync"/> sized for the roll.</summary>
    sealed record SizedRoll(ScriptTime ScriptTime, FleetLifetimes Lifetimes) : RollFit(ScriptTime);

    public override Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, RollFit fit, Action<string>? live, CancellationToken cancellationToken) =>
        RollAsync(script, what, nothingDone, SizedFor(fit.ScriptTime, (fit as SizedRoll)?.Lifetimes), cancellationToken);

    async Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, FleetOptions sized, CancellationToken cancellationToken)
    {
        var fleet = new SsmFleet(ssm, targets, sized, log);
        IReadOnlyList<InstanceRun> runs;
        try
        {
            runs = await fleet.RunAsync(script, what, cancellationToken);
        }
        catch (FleetCancelledException cancelled)
        {
            throw Cancelled(cancelled);
        }
        if (runs.Count == 0) throw new DeliveryException($"{targets} matches no SSM-managed instance; {nothingDone}");
        // --skip-offline: the pre-flight left these out before sending; they are named, not counted as unreached.
        var skipped = fleet.Skipped.Select(s => new HostRun(s.InstanceId, new HostResult(-1, []), false, $"offline ({s.PingStatus})", Skipped: true)).ToList();
        var missing = (targets.InstanceIds ?? []).Except(runs.Select(r => r.InstanceId)).Except(skipped.Select(s => s.Host))
            .Select(id => new HostRun(id, new HostResult(-1, []), false, "not reached"));
        return [.. runs.Select(Run), .. missing, .. skipped];
    }

    public override Task<IReadOnlyList<HostRun>> QueryAsync(string script, string what, CancellationToken cancellationToken) =>
        QueryAsync(script, what, null, cancellationToken);

    public override async Task<IReadOnlyList<HostRun>> QueryAsync(string script, string what, string? nothingDone, CancellationToken cancellationToken)
    {
        var runs = await new SsmFleet(ssm, targets, options with { MaxConcurrency = "50", MaxErrors = "100%" }, null).RunAsync(script, what, cancellationToken);
        return runs.Count > 0 ? runs.Select(Run).ToList()
            : throw new DeliveryException($"{targets} matches no SSM-managed instance{(nothingDone is null ? "" : $"; {nothingDone}")}");
    }

    public override Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken) =>
        RunEachAsync(hosts, script, what, options, cancellationToken);

    /// <summary>Its executionTimeout covers the script's own waits plus the margin a deploy gets (FleetLifetimes), unless
    /// --execution-timeout or --delivery-timeout fixed it (then the deployer checks the fit before sending). A script
    /// that outlives its executionTimeout is stopped by the agent and ends "Execution Timed Out" (AWS: "Understanding
    /// command statuses", https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html, and the
    /// executionTimeout parameter of aws:runShellScript): the release phase's own timeout must come first.</summary>
    public override Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, ScriptTime scriptTime, Action<string>? live, CancellationToken cancellationToken) =>
        RunEachAsync(hosts, script, what, SizedFor(scriptTime), cancellationToken);

    async Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, FleetOptions sized, CancellationToken cancellationToken) =>
        hosts.Count == 0 ? [] :
        (await new SsmFleet(ssm, SsmTargets.Instances([.. hosts]), sized with { MaxConcurrency = "1", MaxErrors = "100%" }, log)
            .RunAsync(script, what, cancellationToken)).Select(Run).ToList();

    /// <summary>The instances all at once, no pre-flight (the roll being undone just reached them), and on
    /// cancellation the command keeps running: an undo is not cut short.</summary>
    public override async Task<IReadOnlyList<HostRun>> RunAllAtOnceAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken)
    {
        if (hosts.Count == 0) return [];
        var fleet = new SsmFleet(ssm, SsmTargets.Instances([.. hosts]), options with
        {
            MaxConcurrency = hosts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), MaxErrors = "100%",
            Preflight = false, CancelOnAbort = false, PollInterval = TimeSpan.FromMilliseconds(250),
        }, log);
        try
        {
            return (await fleet.RunAsync(script, what, cancellationToken)).Select(Run).ToList();
        }
        catch (FleetCancelledException cancelled)
        {
            throw Cancelled(cancelled);
        }
    }

    /// <summary>Finished instances as they ended; pending ones not reached (or, left running, about to run); running
    /// ones reached, wherever their script had got to.</summary>
    RollCancelledException Cancelled(FleetCancelledException cancelled) =>
        new(cancelled.Runs.Select(r => r.Status switch
        {
            _ when SsmInvocation.TerminalStatuses.Contains(r.Status) => Run(r),
            "Pending" => new HostRun(r.InstanceId, r.Result, !cancelled.Cancelled, cancelled.Cancelled ? "not reached" : "not started yet (SSM status Pending); it will run", Unfinished: !cancelled.Cancelled),
            _ => new HostRun(r.InstanceId, r.Result, true, cancelled.Cancelled ? $"was running (SSM status {r.Status}); the agent kills it" : $"still running (SSM status {r.Status})", Unfinished: !cancelled.Cancelled),
        }).ToList(), $"SSM command {cancelled.CommandId}");

    HostRun Run(InstanceRun run) => new(run.InstanceId, run.Result, run.Reached, run.Reason(options));

    /// <summary>The environment's release record in Parameter Store; its versions are the history.</summary>
    sealed class ParameterStoreLedger(ReleaseParameters records) : ReleaseLedger
    {
        public override string NothingRecorded(DeployEnvironment environment) =>
            $"No {environment.Name} release record in Parameter Store ({records.Name(environment)})";

        public override async Task<RecordedRelease?> GetAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
            await records.GetAsync(environment, cancellationToken) is { } r
                ? new RecordedRelease(r.Release.ToPinnedImage(), r.Release.DeployedBy, r.Release.Time, r.Release.Instances, r.Version, $"Parameter Store {records.Name(environment)}", r.Release.Unattested)
                : null;

        public override async Task<string?> RecordAsync(DeployEnvironment environment, RecordedRelease release, CancellationToken cancellationToken = default)
        {
            var r = release.Image;
            var version = await records.PutAsync(environment, new FleetRelease(r.Version, r.Digest, r.ImageReference, r.Commit ?? "",
                DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"), release.DeployedBy, release.Hosts, release.Unattested, release.Skipped), cancellationToken);
            return $"Recorded {r.Version} in Parameter Store {records.Name(environment)} (version {version}{(release.Skipped is { Count: > 0 } skipped ? $"; skipped: {string.Join(", ", skipped)}" : "")})";
        }

        public override async Task<string?> RemoveAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
            await records.RemoveAsync(environment, cancellationToken)
                ? $"Removed the release record {records.Name(environment)} from Parameter Store"
                : null;
    }
}
