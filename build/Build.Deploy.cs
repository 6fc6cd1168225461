using BuildGraph;
using Delivery.Core;
using Delivery.Docker;
using Delivery.Hosts;

partial class Build
{
    [Parameter("Environment for Rollback, Logs, Teardown and ConfigureHost: staging or production", Name = "Environment")]
    readonly string? TargetEnvironment;

    [Parameter("Release X.Y.Z to promote to production (default: the digest staging runs)", Name = "Release")]
    readonly string? PromoteRelease;

    [Parameter("Promote a digest that never passed the staging health gate")]
    readonly bool AllowUnverified;

    [Parameter("Version to roll back to (default: the previous release)")]
    readonly string? To;

    [Parameter("How many log lines Logs prints")]
    readonly int Lines = 100;

    [Parameter("Seconds to wait for another deploy's lock before failing")]
    readonly int LockWait;

    [Parameter("Remove the environment's deploy lock before deploying (after checking nobody deploys)")]
    readonly bool ForceUnlock;

    [Parameter("Teardown without asking")]
    readonly bool Yes;

    [Parameter("Teardown: every environment, the proxy and the local registry the build started")]
    readonly bool All;

    [Parameter("ConfigureHost: check the playbook's syntax and that a second run changes nothing")]
    readonly bool CheckIdempotence;

    HostSettings HostSettings => new() { StateRoot = StatePath / "host" };
    Deployer? deployer;
    Deployer Deployer => deployer ??= new Deployer(new LocalHost(), HostSettings, DeployLog);
    DeployOptions DeployOptions => new() { LockWait = TimeSpan.FromSeconds(LockWait) };
    DeployEnvironment SelectedEnvironment => DeployEnvironment.Named(TargetEnvironment ?? "");

    static readonly string[] HostTools = ["haproxy", "socat", "curl"];

    /// <summary>The local host is provisioned on demand, so a fresh machine can deploy without a separate step.</summary>
    bool HostNeedsConfiguring => InvokedTargets.Contains(nameof(ConfigureHost)) || (!DeploysThroughSsm && HostTools.Any(tool => FindOnPath(tool) is null));

    Target ConfigureHost => _ => _
        .Description("Provisions the deploy host with ansible/configure-host.yml (Docker, HAProxy, state root); runs by itself when tools are missing")
        .OnlyWhenDynamic(() => HostNeedsConfiguring)
        .Executes(async () =>
        {
            if (TargetEnvironment is not null) DeployEnvironment.Named(TargetEnvironment); // fails early on a wrong name
            if (await ConfigureFleets()) return;
            var playbook = await EnsureAnsible();
            // The playbook installs packages and writes system files: as a sudo user (GitHub's runners) it becomes root.
            string[] become = await Delivery.Provisioning.Privileged.DetectAsync(CancellationToken) switch
            {
                Delivery.Provisioning.Privilege.Root => [],
                Delivery.Provisioning.Privilege.Sudo => ["--become"],
                _ => throw new DeliveryException($"ConfigureHost installs packages and writes system files: this user ({System.Environment.UserName}) is not root and 'sudo -n true' fails"),
            };
            string[] arguments = ["-c", "local", "-i", "localhost,", RootDirectory / "ansible" / "configure-host.yml",
                "-e", $"webapp_state_root={HostSettings.StateRoot}", .. become];
            if (CheckIdempotence) await Tool(playbook, [.. arguments, "--syntax-check"]);
            var first = await Tool(playbook, arguments);
            var summary = $"changed={ChangedCount(first.StandardOutput)}";
            if (CheckIdempotence)
            {
                var second = await Tool(playbook, arguments);
                var changed = ChangedCount(second.StandardOutput);
                if (changed != 0) throw new DeliveryException($"ConfigureHost is not idempotent: the second run changed {changed} tasks");
                summary += ", second run changed=0";
            }
            await LogHostInToRegistry();
            ReportSummary(summary);
        });

    Target DeployStaging => _ => _
        .Description("Deploys the image in artifacts/image.json to staging (:8081): health gate, zero-downtime switch, history")
        .DependsOn(Push, ConfigureHost)
        .Executes(async () =>
        {
            var image = await ImageManifest.ReadAsync(ImageManifestFile, CancellationToken);
            // A --version-override build from a tarball knows no commit.
            var commit = image.Commit == Delivery.Versioning.VersionInfo.UnknownSha ? null : image.Commit;
            await DeployPulling(DeployEnvironment.Staging, new Release(image.Version, image.Repository, image.Digest, commit), DeployTargets(DeployEnvironment.Staging));
        });

    Target DeployProduction => _ => _
        .Description("Promotes the digest staging runs (or --release X.Y.Z) to production (:8080); never rebuilds")
        .DependsOn(ConfigureHost)
        .Executes(async () =>
        {
            var targets = DeployTargets(DeployEnvironment.Production);
            if (TargetsOf(DeployEnvironment.Staging) is { } staging)
            {
                var promoted = PromoteRelease is null ? await StagingFleetRelease(staging) : await TaggedRelease(PromoteRelease);
                if (PromoteRelease is not null) await CheckFleetEvidence(staging, promoted);
                await DeployPulling(DeployEnvironment.Production, promoted, targets);
                await TagPromoted(promoted);
                return;
            }
            var release = PromoteRelease is null ? await StagingRelease() : await TaggedRelease(PromoteRelease);
            var evidence = await Deployer.PromotionEvidenceAsync(DeployEnvironment.Staging, release.Digest, CancellationToken);
            if (!evidence.Verified)
            {
                if (!AllowUnverified)
                    throw new DeliveryException($"{release.Version} ({release.ShortDigest}) never passed the health gate on staging; " +
                                                "deploy it to staging first, or pass --allow-unverified");
                Log.Warning($"Promoting {release.Version} ({release.ShortDigest}) although staging never verified it (--allow-unverified)");
            }
            await DeployPulling(DeployEnvironment.Production, release, targets);
            await TagPromoted(release);
        });

    Target Rollback => _ => _
        .Description("Switches --environment back to the previous (or --to <version>) retained release, health-gated")
        .Requires(() => TargetEnvironment)
        .Executes(async () =>
        {
            var environment = SelectedEnvironment;
            if (ForceUnlock) await Deployer.ForceUnlockAsync(environment, DeployOptions, CancellationToken);
            var outcome = await Deployer.RollbackAsync(environment, To, DeployOptions, CancellationToken);
            ReportSummary($"{environment.Name} back on {outcome.Release.Version} ({outcome.Total.TotalSeconds:0.0} s)");
        });

    Target Status => _ => _
        .Description("Shows both environments as the host sees them: version, digest, commit, since, health, rollback targets")
        .Executes(async () =>
        {
            var rows = new List<string[]> { new[] { "Environment", "Port", "Version", "Digest", "Commit", "Since", "Health", "Rollback to" } };
            foreach (var environment in DeployEnvironment.All.Where(e => TargetsOf(e) is not null))
                await FleetStatus(TargetsOf(environment)!, environment);
            if (DeployEnvironment.All.All(e => TargetsOf(e) is not null)) return;
            foreach (var environment in DeployEnvironment.All.Where(e => TargetsOf(e) is null))
            {
                var s = await Deployer.StatusAsync(environment, CancellationToken);
                rows.Add(s.Deployed
                    ? [s.Environment, $":{environment.PublicPort}", s.Version ?? "?", Short(s.Digest), Short(s.Commit, 7), s.Since ?? "?",
                       s.Healthy ? "healthy" : $"UNHEALTHY (container {s.ContainerHealth}, public {s.PublicHealth})",
                       string.Join(", ", s.Retained.Where(r => r.Digest != s.Digest).Select(r => r.Version).Distinct()) is { Length: > 0 } r ? r : "-"]
                    : [s.Environment, $":{environment.PublicPort}", "(not deployed)", "", "", "", "", ""]);
                if (s.LockHolder is not null) Log.Warning($"{environment.Name} is locked by {s.LockHolder}");
            }
            var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
            foreach (var row in rows)
                Log.Information(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        });

    Target Logs => _ => _
        .Description("Prints the last --lines log lines of --environment's active container")
        .Requires(() => TargetEnvironment)
        .Executes(async () =>
        {
            foreach (var line in await Deployer.LogsAsync(SelectedEnvironment, Lines, CancellationToken)) Log.Output(line);
        });

    Target Teardown => _ => _
        .Description("Removes --environment's containers, proxy route and state (--all: everything the build started); asks unless --yes")
        .Requires(() => All ? "all" : TargetEnvironment)
        .Executes(async () =>
        {
            var what = All ? "every environment, the proxy and the local registry" : $"the {SelectedEnvironment.Name} environment";
            if (!Yes) Confirm($"This removes {what} on the {Deployer.Host.Name} host.");
            if (All)
            {
                await Deployer.TeardownAllAsync(DeployOptions, CancellationToken);
                await new LocalRegistry(new LocalRegistryOptions { Address = Registry, StateDirectory = StatePath }).StopAsync(CancellationToken);
            }
            else await Deployer.TeardownAsync(SelectedEnvironment, DeployOptions, CancellationToken);
            ReportSummary($"removed {what}");
        });

    async Task Deploy(DeployEnvironment environment, Release release, Delivery.Aws.SsmTargets? targets)
    {
        if (targets is not null)
        {
            await DeployToFleet(targets, environment, release);
            return;
        }
        if (ForceUnlock) await Deployer.ForceUnlockAsync(environment, DeployOptions, CancellationToken);
        var outcome = await DeployAndReport(environment, release);
        var timings = string.Join(", ", outcome.Timings.Select(t => $"{t.Key} {t.Value.TotalMilliseconds:0} ms"));
        Log.Information($"{environment.Name}: {outcome.PreviousVersion ?? "(nothing)"} -> {release.Version} on :{environment.PublicPort} in {outcome.Total.TotalSeconds:0.0} s ({timings})");
        var switchTime = outcome.Timings.TryGetValue("switch", out var s) ? $", switch {s.TotalMilliseconds:0} ms" : "";
        ReportSummary($"{release.Version} on :{environment.PublicPort} in {outcome.Total.TotalSeconds:0.0} s{switchTime}, bake {outcome.Bake.Verdict.ToString().ToLowerInvariant()}");
    }

    async Task<Release> StagingRelease()
    {
        var staging = await Deployer.StatusAsync(DeployEnvironment.Staging, CancellationToken);
        if (!staging.Deployed || staging.Digest is null || staging.Image is null)
            throw new DeliveryException("Staging runs nothing to promote: run ./build.sh DeployStaging first, or pass --release X.Y.Z");
        var repository = staging.Image.Split('@')[0];
        return new Release(staging.Version ?? "unknown", repository, staging.Digest, staging.Commit);
    }

    async Task<string> EnsureAnsible()
    {
        await Provision([Delivery.Provisioning.Requirement.AnsiblePlaybook]);
        return FindOnPath("ansible-playbook") ?? throw new DeliveryException("ansible-core was installed but ansible-playbook is not on PATH");
    }

    static int ChangedCount(string recap) =>
        System.Text.RegularExpressions.Regex.Matches(recap, @"changed=(\d+)").Sum(m => int.Parse(m.Groups[1].Value));

    void Confirm(string question)
    {
        if (Console.IsInputRedirected || IsServerBuild)
            throw new DeliveryException($"{question} Pass --yes to confirm");
        Console.Write($"{question} Type 'yes' to continue: ");
        if (Console.ReadLine()?.Trim() != "yes") throw new DeliveryException("Not confirmed; nothing was removed");
    }

    static string? FindOnPath(string tool) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);

    static string Short(string? value, int length = 19) =>
        value is null ? "" : value.Length > length ? value[..length] : value;
}
