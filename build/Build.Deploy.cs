using BuildGraph;
using Delivery.Core;
using Delivery.Docker;
using Delivery.Hosts;

partial class Build
{
    [Parameter("Environment for Rollback, Logs, Teardown, ForceUnlock and ConfigureHost", Name = "Environment")]
    readonly Delivery.Aws.EnvironmentName? TargetEnvironment;

    [Parameter("Version X.Y.Z to promote to production (default: the release staging's record names)", DeprecatedNames = ["Release"])]
    readonly string? PromoteVersion;

    [Parameter("Promote a digest that never passed the staging health gate")]
    readonly bool AllowUnverified;

    [Parameter("Version to roll back to (default: the previous release)")]
    readonly string? To;

    [Parameter("How many log lines Logs prints per host")]
    readonly int Lines = 100;

    [Parameter("How long to wait for another deploy's lock before failing (30, 30s, 2m)")]
    readonly TimeSpan LockWait = new DeployOptions().LockWait;

    [Parameter("How long a new release may take to answer 200 on its health path before it is rejected (30, 30s, 2m); unset: the environment's own, 60s")]
    readonly TimeSpan? HealthTimeout;

    /// <summary>The environment with the health gate the command line set.</summary>
    DeployEnvironment Configured(DeployEnvironment environment) =>
        HealthTimeout is { } health ? environment with { HealthTimeout = health } : environment;

    [Parameter("How long the CI gives the build between Ctrl-C (SIGINT) and SIGTERM, which bounds a cancelled deploy's switch-back (default 7.5s, GitHub's runner)")]
    readonly TimeSpan SignalGrace = new DeployOptions().SignalGrace;

    [Parameter("Remove the environment's deploy lock before deploying (after checking nobody deploys)")]
    readonly bool ForceUnlock;

    [Parameter("Teardown without asking")]
    readonly bool Yes;

    [Parameter("Teardown: every environment, the proxy and the local registry the build started")]
    readonly bool All;

    [Parameter("ConfigureHost: check the playbook's syntax and that a second run changes nothing")]
    readonly bool CheckIdempotence;

    HostSettings HostSettings => new() { StateRoot = StatePath / "host" };
    DeployOptions DeployOptions => new() { LockWait = LockWait, SignalGrace = SignalGrace, Unattested = unattestedReason, EndMaintenance = EndMaintenance };
    DeployEnvironment SelectedEnvironment => Delivery.Aws.EnvironmentSettings.Of(TargetEnvironment!.Value);
    Deployer Selected => DeployerOf(SelectedEnvironment);

    /// <summary>Explicitly, or when a site asks for it (this machine lacking its host tools), so a fresh machine can
    /// deploy without a separate step.</summary>
    bool HostNeedsConfiguring => SitesToConfigure.Any();

    Target ConfigureHost => _ => _
        .Description("Provisions the environments' hosts with ansible/configure-host.yml (Docker, HAProxy, state root, registry access): this machine, or every SSM instance")
        .OnlyWhenDynamic(() => HostNeedsConfiguring)
        .Executes(async () =>
        {
            var summary = new List<string>();
            foreach (var (deployer, what) in SitesToConfigure)
            {
                var hosts = await new HostConfiguration(deployer).ConfigureAsync(HostConfigurationSettings, what, CancellationToken);
                foreach (var host in hosts) Log.Information(host.Describe());
                summary.Add($"{hosts.Count} host(s) configured, changed={string.Join("/", hosts.Select(h => h.Runs[0].Changed))}{(CheckIdempotence ? ", second run changed=0" : "")}");
                // The registry step of the site: today the build's own docker (this machine); a fleet's login goes here too.
                await LogHostInToRegistry(deployer.Site);
            }
            ReportSummary(string.Join("; ", summary));
        });

    Target DeployStaging => _ => _
        .Description("Deploys the image in artifacts/image.json to staging (:8081) on its site: health gate, zero-downtime switch, bake, history")
        .DependsOn(Push, ConfigureHost)
        .Executes(async () =>
        {
            var image = await ImageManifest.ReadAsync(ImageManifestFile, CancellationToken);
            // A --version-override build from a tarball knows no commit.
            var commit = image.Commit == Delivery.Versioning.VersionInfo.UnknownSha ? null : image.Commit;
            await Deploy(DeployEnvironment.Staging, new PinnedImage(image.Version, image.Repository, image.Digest, commit));
        });

    Target DeployProduction => _ => _
        .Description("Promotes the release staging's record names (or --promote-version X.Y.Z) to production (:8080) once staging verified it; never rebuilds")
        .DependsOn(ConfigureHost)
        .Executes(async () =>
        {
            ReadyToDeploy(DeployEnvironment.Production);
            var release = await DeployerOf(DeployEnvironment.Staging).PromotableAsync(DeployEnvironment.Staging,
                PromoteVersion is null ? null : await TaggedRelease(PromoteVersion), AllowUnverified, CancellationToken);
            await Deploy(DeployEnvironment.Production, release);
            await TagPromoted(release);
        });

    Target Rollback => _ => _
        .Description("Switches --environment back to the previous (or --to <version>) retained release on every host, health-gated")
        .Requires(() => TargetEnvironment)
        .Executes(async () =>
        {
            if (ForceUnlock) await Selected.ForceUnlockAsync(SelectedEnvironment, DeployOptions, CancellationToken);
            var outcome = await Reported("Rollback", () => Selected.RollbackAsync(Configured(SelectedEnvironment), To, DeployOptions, CancellationToken));
            ReportSummary($"{SelectedEnvironment.Name} back on {outcome.Release.Version} on {outcome.Hosts.Count} host(s) ({outcome.Total.TotalSeconds:0.0} s)");
        });

    Target Status => _ => _
        .Description("Shows each environment on every host: version, digest, whether the digest is attested, commit, since, health, rollback targets, drift from the record")
        .Executes(async () =>
        {
            var rows = new List<string[]> { StatusTable.Header };
            foreach (var environment in DeployEnvironment.All)
            {
                var site = await DeployerOf(environment).SiteStatusAsync(environment, CancellationToken);
                if (StatusTable.RecordLine(site) is { } recordLine) Log.Information(recordLine);
                var report = await StatusTable.ReportAsync(site, AttestationOf);
                foreach (var warning in report.Warnings) Log.Warning(warning);
                rows.AddRange(report.Rows);
                foreach (var (host, maintenance) in await new MaintenanceMode(DeployerOf(environment)).StatusAsync(environment, CancellationToken))
                    if (maintenance.On) Log.Warning($"{environment.Name} on {host} is in maintenance since {maintenance.Since} (by {maintenance.By}): {maintenance.Message}");
            }
            PrintRows(rows);
            if (VerifyRollback) await VerifyRollbackTargets();
        });

    Target Logs => _ => _
        .Description("Prints the last --lines log lines of --environment's active container on every host, each prefixed with its host")
        .Requires(() => TargetEnvironment)
        .Executes(async () =>
        {
            foreach (var line in await Selected.LogsAsync(SelectedEnvironment, Lines, CancellationToken)) Log.Output($"{line.Host} | {line.Line}");
        });

    Target Teardown => _ => _
        .Description("Removes --environment's containers, proxy route, data store, state and release record on every host (--all: everything the build started); asks unless --yes")
        .Requires(() => All ? "all" : TargetEnvironment)
        .Executes(async () =>
        {
            var deployer = All ? DeployerOf(DeployEnvironment.Staging) : Selected;
            var what = All ? "every environment, the proxy and the local registry" : $"the {SelectedEnvironment.Name} environment";
            if (!Yes) Confirm($"This removes {what} on {await deployer.Site.DescribeHostsAsync(CancellationToken)}.");
            if (All)
            {
                await deployer.TeardownAllAsync(DeployOptions, CancellationToken);
                await new LocalRegistry(new LocalRegistryOptions { Address = Registry, StateDirectory = StatePath }).StopAsync(CancellationToken);
            }
            else await deployer.TeardownAsync(SelectedEnvironment, DeployOptions, CancellationToken);
            ReportSummary($"removed {what}");
        });

    Target Unlock => _ => _
        .Description("Removes --environment's deploy lock on every host, after checking that nobody deploys")
        .Requires(() => TargetEnvironment)
        .Executes(() => Selected.ForceUnlockAsync(SelectedEnvironment, DeployOptions, CancellationToken));

    async Task Deploy(DeployEnvironment environment, PinnedImage release)
    {
        var deployer = ReadyToDeploy(environment);
        if (ForceUnlock) await deployer.ForceUnlockAsync(environment, DeployOptions, CancellationToken);
        var outcome = await DeployPulling(environment, release, () => DeployAndReport(environment, release));
        var timings = string.Join(", ", outcome.Timings.Select(t => $"{t.Key} {t.Value.TotalMilliseconds:0} ms"));
        Log.Information($"{environment.Name}: {outcome.PreviousVersion ?? "(nothing)"} -> {release.Version} on :{environment.PublicPort} in {outcome.Total.TotalSeconds:0.0} s ({timings})");
        var switchTime = outcome.Timings.TryGetValue("switch", out var s) ? $", switch {s.TotalMilliseconds:0} ms" : "";
        ReportSummary($"{release.Version} on {outcome.Hosts.Count} host(s) of {environment.Name} (:{environment.PublicPort}) in {outcome.Total.TotalSeconds:0.0} s{switchTime}, bake {outcome.Bake.Verdict.ToString().ToLowerInvariant()}");
    }

    /// <summary>Any operation over a site: the per-host table on the console and in the job summary, whether it worked or not.</summary>
    async Task<DeployOutcome> Reported(string title, Func<Task<DeployOutcome>> operation)
    {
        try
        {
            var outcome = await operation();
            PrintTable(outcome.Table, title);
            AddStepSummary(TableReport(title, outcome.Table));
            return outcome;
        }
        catch (SiteOperationException failure) when (failure.Table.Count > 0)
        {
            PrintTable(failure.Table, title);
            AddStepSummary(TableReport(title, failure.Table));
            throw;
        }
    }

    /// <summary>The sites of --environment (or of every environment), each once, with the environments it serves:
    /// all of them when ConfigureHost is asked for, else only those that ask for it themselves.</summary>
    IEnumerable<(Deployer Deployer, string What)> SitesToConfigure =>
        (TargetEnvironment is null ? DeployEnvironment.All : [SelectedEnvironment])
        .GroupBy(e => DeployerOf(e).Site.Reaches)
        .Select(g => (Deployer: DeployerOf(g.First()), What: $"ConfigureHost on {DeployerOf(g.First()).Site.Name} ({string.Join(" and ", g.Select(e => e.Name))})"))
        .Where(s => InvokedTargets.Contains(nameof(ConfigureHost)) || s.Deployer.Site.NeedsConfiguring(HostSettings));

    HostConfigurationSettings HostConfigurationSettings => new()
    {
        PlaybookArchive = HostConfigurationSettings.Archive(RootDirectory / "ansible"),
        Variables = RegistryPlaybookVariables(),
        PasswordRegistry = PasswordRegistry,
        CheckIdempotence = CheckIdempotence,
    };

    void Confirm(string question)
    {
        if (Console.IsInputRedirected || IsServerBuild)
            throw new DeliveryException($"{question} Pass --yes to confirm");
        Console.Write($"{question} Type 'yes' to continue: ");
        if (Console.ReadLine()?.Trim() != "yes") throw new DeliveryException("Not confirmed; nothing was removed");
    }
}
