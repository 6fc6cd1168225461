using System.Text.Json;
using Delivery.Core;
using Delivery.Hosts;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;

namespace Delivery.Aws;

/// <summary>One row of a fleet deploy's table.</summary>
public sealed record FleetRow(string Instance, string Deploy, string Rollback, string Serves);

/// <summary>A fleet deploy that did not complete: the roll stopped, switched instances went back.</summary>
public sealed class FleetDeployException(string message, IReadOnlyList<FleetRow> table) : DeliveryException(message)
{
    public IReadOnlyList<FleetRow> Table { get; } = table;
}

/// <summary>What each instance of an environment runs, and whether it differs from the Parameter Store record.</summary>
public sealed record InstanceStatus(string Instance, EnvironmentStatus? Status, string? Problem)
{
    public bool Drifts(FleetRelease? record) => record is not null && Status?.Digest != record.Digest;
}

/// <summary>
/// Deploys to an environment's fleet through SSM with the same host scripts as the local host. When an instance
/// fails, the roll stops (MaxErrors), every instance that already switched is switched back through the same
/// health-gated rollback path, and the ones not reached are left alone.
/// </summary>
public sealed class FleetDeployer(SsmClient ssm, HostSettings host, FleetOptions options, Action<string>? log = null)
{
    readonly HostSettings host = host with { ReadsHostConfig = true };

    public async Task<(IReadOnlyList<InstanceRun> Runs, IReadOnlyList<FleetRow> Table)> DeployAsync(
        SsmTargets targets, DeployEnvironment environment, Release release, DeployOptions deploy, CancellationToken cancellationToken = default)
    {
        var what = $"Deploy of {release.Version} to {environment.Name}";
        var script = HostScripts.Deploy(host, environment, release, deploy);
        var runs = await new SsmFleet(ssm, targets, options, log).RunAsync(script, what, cancellationToken);
        if (runs.Count == 0)
            throw new DeliveryException($"{targets} matches no SSM-managed instance; nothing was deployed to {environment.Name}");

        var failed = runs.Where(r => r.Reached && !r.Succeeded).ToList();
        var unreached = runs.Where(r => !r.Reached).Select(r => r.InstanceId)
            .Concat((targets.InstanceIds ?? []).Except(runs.Select(r => r.InstanceId))).ToList();
        if (failed.Count == 0 && unreached.Count == 0)
            return (runs, runs.Select(r => new FleetRow(r.InstanceId, Deployed(r), "-", release.Version)).ToList());

        var switched = runs.Where(r => r.Succeeded).ToList();
        var rolledBack = new Dictionary<string, InstanceRun>(StringComparer.Ordinal);
        if (switched.Count > 0)
        {
            log?.Invoke($"{what} stopped; switching {string.Join(", ", switched.Select(r => r.InstanceId))} back to the previous release");
            var back = HostScripts.Rollback(host, environment, null, deploy);
            var rollbackOptions = options with { MaxConcurrency = "1", MaxErrors = "100%" };
            foreach (var r in await new SsmFleet(ssm, SsmTargets.Instances([.. switched.Select(s => s.InstanceId)]), rollbackOptions, log)
                         .RunAsync(back, $"Rollback of {environment.Name}", CancellationToken.None))
                rolledBack[r.InstanceId] = r;
        }

        var table = new List<FleetRow>();
        foreach (var r in runs.Where(r => r.Reached))
        {
            if (r.Succeeded)
            {
                var back = rolledBack.GetValueOrDefault(r.InstanceId);
                var previous = back is { Succeeded: true } ? ReleaseVersion(back) : null;
                table.Add(new FleetRow(r.InstanceId, Deployed(r), back is null ? "not run" : back.Succeeded ? "switched back" : $"FAILED: {back.Reason(options)}",
                    back is { Succeeded: true } ? previous ?? "previous" : release.Version));
            }
            else table.Add(new FleetRow(r.InstanceId, $"FAILED: {r.Reason(options)}", "-", Bake(r) is { Verdict: BakeVerdict.Fail } bake
                ? $"{bake.RolledBackTo ?? "previous"} (its bake switched it back)"
                : "unchanged (its own health gate kept the old release)"));
        }
        table.AddRange(unreached.Select(id => new FleetRow(id, "not reached", "-", "untouched")));

        var message = $"{what} failed on {string.Join(", ", failed.Select(f => $"{f.InstanceId} ({f.Reason(options)})"))}";
        if (switched.Count > 0)
            message += rolledBack.Values.All(b => b.Succeeded)
                ? $"; switched back: {string.Join(", ", switched.Select(s => s.InstanceId))}"
                : $"; switching back FAILED on {string.Join(", ", rolledBack.Values.Where(b => !b.Succeeded).Select(b => b.InstanceId))}";
        if (unreached.Count > 0) message += $"; untouched: {string.Join(", ", unreached)}";
        if (failed.Count == 0) message = $"{what} did not reach {string.Join(", ", unreached)}" + (switched.Count > 0 ? $"; switched back: {string.Join(", ", switched.Select(s => s.InstanceId))}" : "");
        throw new FleetDeployException(message, table);
    }

    /// <summary>Every instance's view of the environment (the Status script, run on all targets at once).</summary>
    public async Task<IReadOnlyList<InstanceStatus>> StatusAsync(SsmTargets targets, DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var runs = await Query(targets, HostScripts.Status(host, environment), $"Status of {environment.Name}", cancellationToken);
        return runs.Select(r => r.Succeeded
            ? new InstanceStatus(r.InstanceId, Deployer.ParseStatus(environment, Data(r)), null)
            : new InstanceStatus(r.InstanceId, null, r.Reason(options))).ToList();
    }

    /// <summary>Whether every instance runs <paramref name="digest"/> and saw it pass its health gate.</summary>
    public async Task<IReadOnlyList<(string Instance, PromotionEvidence? Evidence, string? Problem)>> EvidenceAsync(
        SsmTargets targets, DeployEnvironment environment, string digest, CancellationToken cancellationToken = default)
    {
        var runs = await Query(targets, HostScripts.Evidence(host, environment), $"Promotion check on {environment.Name}", cancellationToken);
        return runs.Select(r =>
        {
            if (!r.Succeeded) return (r.InstanceId, (PromotionEvidence?)null, (string?)r.Reason(options));
            var data = Data(r).ToList();
            var status = Deployer.ParseStatus(environment, data);
            var last = Deployer.ParseHistory(data).LastOrDefault(h => h.Digest == digest);
            return (r.InstanceId, new PromotionEvidence(environment.Name, status.Digest, status.Version, last is not null, last), null);
        }).ToList();
    }

    async Task<IReadOnlyList<InstanceRun>> Query(SsmTargets targets, string script, string what, CancellationToken cancellationToken)
    {
        var runs = await new SsmFleet(ssm, targets, options with { MaxConcurrency = "50", MaxErrors = "100%" }, null)
            .RunAsync(script, what, cancellationToken);
        return runs.Count > 0 ? runs : throw new DeliveryException($"{targets} matches no SSM-managed instance");
    }

    static IEnumerable<JsonElement> Data(InstanceRun run) => run.Result.Data.Select(line =>
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    });

    static BakeReport? Bake(InstanceRun run) =>
        Data(run).Where(d => d.TryGetProperty("kind", out var k) && k.GetString() == "bake").Select(BakeReport.Parse).LastOrDefault();

    /// <summary>"deployed", with the bake's verdict when the instance baked the release.</summary>
    static string Deployed(InstanceRun run) => Bake(run) is { } bake ? $"deployed, bake {bake}" : "deployed";

    static string? ReleaseVersion(InstanceRun run) =>
        Data(run).Where(d => d.TryGetProperty("kind", out var k) && k.GetString() == "release")
            .Select(d => d.TryGetProperty("version", out var v) ? v.GetString() : null).LastOrDefault();
}
