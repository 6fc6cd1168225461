using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Sites;

namespace Delivery.Aws;

/// <summary>
/// An environment's EC2 instances, reached through SSM Run Command: every operation's script goes to all targets
/// with SSM's own rate control (MaxConcurrency, MaxErrors), and the release record lives in Parameter Store. The
/// instances read their own host configuration (ConfigureHost writes it), so one script text serves the fleet.
/// </summary>
public sealed class SsmFleetSite(SsmClient ssm, SsmTargets targets, FleetOptions options, string app, Action<string>? log = null) : Site
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

    public override (TimeSpan Limit, string Parameter)? ScriptTimeLimit =>
        (TimeSpan.FromSeconds(options.ExecutionTimeoutSeconds), "--execution-timeout");

    public override async Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, Action<string>? live, CancellationToken cancellationToken)
    {
        var fleet = new SsmFleet(ssm, targets, options, log);
        var runs = await fleet.RunAsync(script, what, cancellationToken);
        if (runs.Count == 0) throw new DeliveryException($"{targets} matches no SSM-managed instance; {nothingDone}");
        // --skip-offline: the pre-flight left these out before sending; they are named, not counted as unreached.
        var skipped = fleet.Skipped.Select(s => new HostRun(s.InstanceId, new HostResult(-1, []), false, $"offline ({s.PingStatus})", Skipped: true)).ToList();
        var missing = (targets.InstanceIds ?? []).Except(runs.Select(r => r.InstanceId)).Except(skipped.Select(s => s.Host))
            .Select(id => new HostRun(id, new HostResult(-1, []), false, "not reached"));
        return [.. runs.Select(Run), .. missing, .. skipped];
    }

    public override async Task<IReadOnlyList<HostRun>> QueryAsync(string script, string what, CancellationToken cancellationToken)
    {
        var runs = await new SsmFleet(ssm, targets, options with { MaxConcurrency = "50", MaxErrors = "100%" }, null).RunAsync(script, what, cancellationToken);
        return runs.Count > 0 ? runs.Select(Run).ToList() : throw new DeliveryException($"{targets} matches no SSM-managed instance");
    }

    public override async Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken) =>
        hosts.Count == 0 ? [] :
        (await new SsmFleet(ssm, SsmTargets.Instances([.. hosts]), options with { MaxConcurrency = "1", MaxErrors = "100%" }, log)
            .RunAsync(script, what, cancellationToken)).Select(Run).ToList();

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
