using BuildGraph;
using Delivery.Aws;
using Delivery.Core;
using Delivery.Hosts;

/// <summary>Where each environment deploys: this machine, or EC2 instances through SSM Run Command.</summary>
partial class Build
{
    [Parameter("SSM targets of staging: instance ids (i-0abc…,i-0def…) or tag:Key=Value; unset or 'local' = this machine (a CI build must say 'local')")]
    readonly string? StagingTargets;

    [Parameter("SSM targets of production: instance ids or tag:Key=Value; unset or 'local' = this machine (a CI build must say 'local')")]
    readonly string? ProductionTargets;

    [Parameter("AWS region of the SSM targets, Parameter Store and ECR (AWS_REGION)")]
    readonly string? AwsRegion;

    [Parameter("AWS region of staging's targets, when it differs from --aws-region")]
    readonly string? StagingRegion;

    [Parameter("AWS region of production's targets, when it differs from --aws-region")]
    readonly string? ProductionRegion;

    [Parameter("AWS API endpoint for every service (AWS_ENDPOINT_URL); AWS_ENDPOINT_URL_SSM / _ECR override it per service")]
    readonly string? AwsEndpointUrl;

    [Parameter("SSM deploys: instances deployed at once (a number or a percentage)")]
    readonly string MaxConcurrency = "1";

    [Parameter("SSM deploys: failed instances tolerated before the roll stops (0 = stop at the first)")]
    readonly string MaxErrors = "0";

    [Parameter("SSM deploys: seconds a host script may run on an instance (AWS-RunShellScript executionTimeout)")]
    readonly int ExecutionTimeout = 900;

    [Parameter("SSM deploys: seconds SSM may take to deliver the command to an instance (SendCommand TimeoutSeconds)")]
    readonly int DeliveryTimeout = 600;

    [Parameter("SSM deploys: S3 bucket that keeps the full command output (optional)")]
    readonly string? SsmOutputBucket;

    [Parameter("SSM deploys: CloudWatch Logs group that keeps the full command output (optional)")]
    readonly string? SsmLogGroup;

    SsmTargets? TargetsOf(DeployEnvironment environment)
    {
        var (text, name) = environment == DeployEnvironment.Production
            ? (ProductionTargets, "--production-targets (PRODUCTION_TARGETS)")
            : (StagingTargets, "--staging-targets (STAGING_TARGETS)");
        return string.IsNullOrWhiteSpace(text) || IsLocal(text) ? null : SsmTargets.Parse(text, name);
    }

    const string LocalTargets = "local";

    static bool IsLocal(string? text) => string.Equals(text?.Trim(), LocalTargets, StringComparison.OrdinalIgnoreCase);

    /// <summary>A CI build deploys to its own machine only when told so ('local'): a runner is thrown away when the
    /// job ends, so a forgotten setting must fail rather than deploy there.</summary>
    SsmTargets? DeployTargets(DeployEnvironment environment)
    {
        var targets = TargetsOf(environment);
        var text = environment == DeployEnvironment.Production ? ProductionTargets : StagingTargets;
        if (targets is null && IsServerBuild && !IsLocal(text))
            throw new DeliveryException($"No SSM targets for {environment.Name}: set --{environment.Name}-targets " +
                                        $"({environment.Name.ToUpperInvariant()}_TARGETS) to instance ids or tag:Key=Value " +
                                        $"(or '{LocalTargets}' for this machine); a CI build never deploys to its runner unless told so");
        return targets;
    }

    bool DeploysThroughSsm => TargetsOf(DeployEnvironment.Staging) is not null || TargetsOf(DeployEnvironment.Production) is not null;

    SsmClient? ssmClient;

    SsmClient Ssm(DeployEnvironment environment)
    {
        if (ssmClient is not null) return ssmClient;
        var region = (environment == DeployEnvironment.Production ? ProductionRegion : StagingRegion) ?? AwsRegion
                     ?? throw new DeliveryException($"No AWS region for the {environment.Name} targets: set --aws-region (AWS_REGION)");
        return ssmClient = new SsmClient(AwsSettings.Resolve(region, AwsCredentialChain.Default(), AwsEndpointUrl));
    }

    FleetOptions FleetOptions => new()
    {
        MaxConcurrency = MaxConcurrency,
        MaxErrors = MaxErrors,
        ExecutionTimeoutSeconds = ExecutionTimeout,
        DeliveryTimeoutSeconds = DeliveryTimeout,
        OutputS3BucketName = SsmOutputBucket,
        CloudWatchLogGroupName = SsmLogGroup,
        PollInterval = TimeSpan.FromSeconds(1),
    };

    FleetDeployer Fleet(DeployEnvironment environment) =>
        new(Ssm(environment), HostSettings with { StateRoot = HostSettings.DefaultStateRoot }, FleetOptions, Log.Information);

    ReleaseParameters ReleaseRecords(DeployEnvironment environment) => new(Ssm(environment), HostSettings.AppName);

    async Task DeployToFleet(SsmTargets targets, DeployEnvironment environment, Release release)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<FleetRow> table;
        IReadOnlyList<InstanceRun> runs;
        try
        {
            (runs, table) = await Fleet(environment).DeployAsync(targets, Metered(environment), release, DeployOptions with { Bake = BakeFor(environment) }, CancellationToken);
        }
        catch (FleetDeployException failure)
        {
            PrintTable(failure.Table);
            AddStepSummary(FleetReport(environment, release, failure.Table));
            throw;
        }
        PrintTable(table);
        AddStepSummary(FleetReport(environment, release, table));
        var who = DeployOptions.DeployedByOrDefault();
        var record = new FleetRelease(release.Version, release.Digest, release.ImageReference, release.Commit ?? "",
            DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"), who, runs.Select(r => r.InstanceId).ToList());
        var records = ReleaseRecords(environment);
        var version = await records.PutAsync(environment, record, CancellationToken);
        Log.Information($"Recorded {release.Version} in Parameter Store {records.Name(environment)} (version {version})");
        ReportSummary($"{release.Version} on {runs.Count} instance(s) of {environment.Name} in {started.Elapsed.TotalSeconds:0.0} s");
    }

    void PrintTable(IReadOnlyList<FleetRow> rows) =>
        PrintRows([["Instance", "Deploy", "Rollback", "Serves"], .. rows.Select(r => new[] { r.Instance, r.Deploy, r.Rollback, r.Serves })]);

    /// <summary>The fleet's deploy report for the job summary: what went where, and each instance's bake verdict.</summary>
    static string FleetReport(DeployEnvironment environment, Release release, IReadOnlyList<FleetRow> rows) =>
        $"### Deploy of {release.Version} to {environment.Name} ({rows.Count} instance(s))\n\n" +
        $"Digest `{release.Digest}`{(release.Commit is { Length: > 0 } c ? $", commit `{c}`" : "")}\n\n" +
        "| Instance | Deploy | Rollback | Serves |\n|---|---|---|---|\n" +
        string.Concat(rows.Select(r => $"| {Cell(r.Instance)} | {Cell(r.Deploy)} | {Cell(r.Rollback)} | {Cell(r.Serves)} |\n"));

    static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");

    void PrintRows(IReadOnlyList<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            Log.Information(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>Production promotes what the staging record names, once every staging instance shows it passed the gate.</summary>
    async Task<Release> StagingFleetRelease(SsmTargets staging)
    {
        var records = ReleaseRecords(DeployEnvironment.Staging);
        var record = await records.GetAsync(DeployEnvironment.Staging, CancellationToken)
                     ?? throw new DeliveryException($"No staging release record in Parameter Store ({records.Name(DeployEnvironment.Staging)}): " +
                                                    "run ./build.sh DeployStaging first, or pass --release X.Y.Z");
        var release = record.Release.ToRelease();
        await CheckFleetEvidence(staging, release);
        return release;
    }

    async Task CheckFleetEvidence(SsmTargets staging, Release release)
    {
        var evidence = await Fleet(DeployEnvironment.Staging).EvidenceAsync(staging, DeployEnvironment.Staging, release.Digest, CancellationToken);
        var unverified = evidence.Where(e => e.Evidence is not { Verified: true }).ToList();
        if (unverified.Count == 0)
        {
            Log.Information($"Staging evidence: {release.Version} ({release.ShortDigest}) passed the health gate on {string.Join(", ", evidence.Select(e => e.Instance))}");
            return;
        }
        var detail = string.Join(", ", unverified.Select(e => $"{e.Instance}: {e.Problem ?? "never passed the health gate"}"));
        if (!AllowUnverified)
            throw new DeliveryException($"{release.Version} ({release.ShortDigest}) is not verified on every staging instance ({detail}); deploy it to staging first, or pass --allow-unverified");
        Log.Warning($"Promoting {release.Version} although staging did not verify it everywhere ({detail}) (--allow-unverified)");
    }

    /// <summary>ConfigureHost on the SSM targets of --environment (or of every environment that has targets).</summary>
    async Task<bool> ConfigureFleets()
    {
        var environments = (TargetEnvironment is null ? DeployEnvironment.All : [SelectedEnvironment])
            .Where(e => TargetsOf(e) is not null).ToList();
        if (environments.Count == 0) return false;
        foreach (var group in environments.GroupBy(e => TargetsOf(e)!.ToString()))
        {
            var targets = TargetsOf(group.First())!;
            var script = HostProvisioning.ConfigureScript(RootDirectory / "ansible", CheckIdempotence, new Dictionary<string, string>
            {
                ["webapp_state_root"] = HostSettings.DefaultStateRoot,
                ["webapp_app"] = HostSettings.AppName,
                ["webapp_staging_port"] = DeployEnvironment.Staging.PublicPort.ToString(),
                ["webapp_production_port"] = DeployEnvironment.Production.PublicPort.ToString(),
            });
            var runs = await new SsmFleet(Ssm(group.First()), targets, FleetOptions with { MaxConcurrency = "50%", MaxErrors = "0" }, Log.Information)
                .RunAsync(script, $"ConfigureHost on {string.Join(" and ", group.Select(e => e.Name))}", CancellationToken);
            var failed = runs.Where(r => !r.Succeeded).ToList();
            if (runs.Count == 0) throw new DeliveryException($"{targets} matches no SSM-managed instance; nothing was configured");
            if (failed.Count > 0)
                throw new DeliveryException($"ConfigureHost failed on {string.Join(", ", failed.Select(f => $"{f.InstanceId} ({f.Reason(FleetOptions)})"))}");
            ReportSummary($"{runs.Count} instance(s) configured through SSM{(CheckIdempotence ? ", second run changed=0" : "")}");
        }
        return true;
    }

    async Task FleetStatus(SsmTargets targets, DeployEnvironment environment)
    {
        var records = ReleaseRecords(environment);
        var record = await records.GetAsync(environment, CancellationToken);
        Log.Information(record is { } r
            ? $"{environment.Name}: Parameter Store {records.Name(environment)} v{r.Version}: {r.Release.Version} ({Short(r.Release.Digest)}) by {r.Release.DeployedBy} at {r.Release.Time} on {string.Join(", ", r.Release.Instances)}"
            : $"{environment.Name}: no release record in Parameter Store ({records.Name(environment)})");
        var statuses = await Fleet(environment).StatusAsync(targets, environment, CancellationToken);
        var rows = new List<string[]> { new[] { "Instance", "Environment", "Version", "Digest", "Health", "Record" } };
        foreach (var s in statuses)
        {
            var st = s.Status;
            rows.Add([s.Instance, environment.Name,
                st is { Deployed: true } ? st.Version ?? "?" : s.Problem is null ? "(not deployed)" : "?",
                Short(st?.Digest),
                s.Problem ?? (st is { Deployed: true } ? st.Healthy ? "healthy" : "UNHEALTHY" : ""),
                record is null ? "-" : s.Drifts(record.Value.Release) ? "DRIFT" : "matches"]);
        }
        PrintRows(rows);
        var drifting = statuses.Where(s => s.Drifts(record?.Release)).Select(s => s.Instance).ToList();
        if (drifting.Count > 0) Log.Warning($"{environment.Name}: {string.Join(", ", drifting)} run(s) something else than the release record");
    }
}
