using BuildGraph;
using Delivery.Core;
using Delivery.Hosts;

/// <summary>Status --verify-rollback: proof that every retained rollback target of every environment would work.</summary>
partial class Build
{
    [Parameter("Status: start each retained rollback target on a spare loopback port (or check the registry has its digest) and show ok, missing, unpullable or unhealthy")]
    readonly bool VerifyRollback;

    async Task VerifyRollbackTargets()
    {
        var rows = new List<string[]> { new[] { "Host", "Environment", "Rollback target", "Digest", "Result", "Reason" } };
        var failing = new List<string>();
        foreach (var environment in DeployEnvironment.All)
            foreach (var (host, check) in await DeployerOf(environment).VerifyRollbackAsync(environment, CancellationToken))
            {
                rows.Add([host, environment.Name, check.Version, StatusTable.Short(check.Digest), check.Result, check.Reason]);
                if (!check.Ok) failing.Add($"{environment.Name} {check.Version} on {host}: {check.Result}");
            }
        if (rows.Count == 1) Log.Information("No environment has a retained rollback target");
        else PrintRows(rows);
        if (failing.Count > 0)
            throw new DeliveryException($"{failing.Count} rollback target(s) would not work: {string.Join("; ", failing)}");
    }
}
