using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

public sealed class PlanTests
{
    static readonly HostSettings Host = new() { StateRoot = "/srv/deploy" };
    static readonly PinnedImage Release = new("1.2.3", "registry.example:5000/webapp", "sha256:" + new string('c', 64), "abcdef1");
    static readonly DeployOptions Options = new() { DeployedBy = "ci-bot", LockWait = TimeSpan.FromSeconds(90) };
    static readonly DeployOptions Baked = Options with { Bake = new Bake.BakeSettings { Duration = TimeSpan.FromSeconds(30) } };

    public static TheoryData<string, string> Plans => new()
    {
        { "deploy", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options) },
        { "deploy with a bake", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Baked) },
        { "rollback", HostScripts.Rollback(Host, DeployEnvironment.Production, "1.0.0", Options) },
        { "rollback previous", HostScripts.Rollback(Host, DeployEnvironment.Production, null, Options) },
        { "status", HostScripts.Status(Host, DeployEnvironment.Staging) },
        { "history", HostScripts.History(Host, DeployEnvironment.Staging) },
        { "evidence", HostScripts.Evidence(Host, DeployEnvironment.Staging) },
        { "logs", HostScripts.Logs(Host, DeployEnvironment.Staging, 200) },
        { "force-unlock", HostScripts.ForceUnlock(Host, DeployEnvironment.Staging, Options) },
        { "teardown", HostScripts.Teardown(Host, DeployEnvironment.Staging, Options) },
        { "teardown all", HostScripts.TeardownAll(Host, DeployEnvironment.All, Options) },
        { "ensure proxy", HostScripts.EnsureProxy(Host) },
        { "maintenance on", HostScripts.MaintenanceOn(Host, DeployEnvironment.Production, new() { Message = "Back at 18:00 UTC" }, Options) },
        { "maintenance off", HostScripts.MaintenanceOff(Host, DeployEnvironment.Production, Options) },
        { "maintenance status", HostScripts.MaintenanceStatus(Host, DeployEnvironment.Production) },
        { "release phase", HostScripts.ReleasePhase(Host, DeployEnvironment.Staging, Release, new ReleasePhaseSettings("sh -c 'echo migrated; exit 0'"), Options) },
        { "deploy ending maintenance", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Baked with { EndMaintenance = true }) },
        { "rollback ending maintenance", HostScripts.Rollback(Host, DeployEnvironment.Production, null, Options with { EndMaintenance = true }) },
        { "verify rollback", HostScripts.VerifyRollback(Host, DeployEnvironment.Production) },
        { "configure host", HostScripts.ConfigureHost(Host, new HostConfigurationSettings { PlaybookArchive = "H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ8HFAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", CheckIdempotence = true, Variables = new Dictionary<string, string> { ["webapp_ecr_registry"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com" } }) },
        { "configure host once", HostScripts.ConfigureHost(Host with { ReadsHostConfig = true }, new HostConfigurationSettings { PlaybookArchive = "H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ8HFAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" }) },
        { "deploy after a release phase", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options, new ReleasePhaseResult(0, TimeSpan.FromSeconds(2), false)) },
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public async Task Every_plan_is_valid_bash_that_stops_on_the_first_error(string name, string script)
    {
        Assert.StartsWith("#!/usr/bin/env bash\n# ", script);
        Assert.Contains("\nset -euo pipefail\nexec 2>&1\n", script);
        var check = await Delivery.Core.ProcessRunner.RunAsync(Tools.Require("bash", "bash"), ["-n"], new Delivery.Core.ProcessOptions { StandardInput = script });
        Assert.True(check.Succeeded, $"{name}: {check.StandardError}");
    }

    [Fact]
    public void Without_a_bake_the_deploy_script_has_no_bake_text_at_all()
    {
        var script = HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options with { Bake = Bake.BakeSettings.Off });
        Assert.Equal(HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options), script);
        foreach (var word in new[] { "bake_watch", "bake_prepare", "metrics_snapshot", "timed drain quiesce_previous", "metrics_path=" })
            Assert.DoesNotContain(word, script);
        Assert.Contains("\ntimed switch switch_traffic\ntimed record record_release deploy\ntimed drain drain_previous\ntimed prune prune_releases\n", script);
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void No_plan_carries_credentials(string name, string script)
    {
        foreach (var word in new[] { "docker login", "--password", "AWS_SECRET", "AWS_ACCESS_KEY", "X-Registry-Auth", "Authorization" })
            Assert.False(script.Contains(word, StringComparison.OrdinalIgnoreCase), $"{name} mentions {word}");
    }
}
