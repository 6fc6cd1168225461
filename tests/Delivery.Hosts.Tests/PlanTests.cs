using System.Text.RegularExpressions;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

public sealed class PlanTests
{
    static readonly HostSettings Host = new() { StateRoot = "/srv/deploy" };
    static readonly Release Release = new("1.2.3", "registry.example:5000/webapp", "sha256:" + new string('c', 64), "abcdef1");
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
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public async Task Every_plan_is_valid_bash_that_stops_on_the_first_error(string name, string script)
    {
        Assert.StartsWith("#!/usr/bin/env bash\n# ", script);
        Assert.Contains("\nset -euo pipefail\nexec 2>&1\n", script);
        var check = await Delivery.Core.ProcessRunner.RunAsync(Tools.Require("bash", "bash"), ["-n"], new Delivery.Core.ProcessOptions { StandardInput = script });
        Assert.True(check.Succeeded, $"{name}: {check.StandardError}");
        // Every function a plan calls is defined in it.
        var defined = Regex.Matches(script, @"^([a-z_]+)\(\) \{", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        var called = Regex.Matches(script, @"^(?:timed [a-z-]+ )?([a-z_]+)(?: |$)", RegexOptions.Multiline).Select(m => m.Groups[1].Value)
            .Where(c => c.Contains('_') && !c.StartsWith("release_") && !c.StartsWith("green_") && !c.StartsWith("old_"));
        Assert.All(called, c => Assert.Contains(c, defined));
    }

    /// <summary>The plan's steps as "name: action" in script order.</summary>
    static List<string> TimedSteps(string script) =>
        Regex.Matches(script, @"^timed ([a-z]+) (.+)$", RegexOptions.Multiline).Select(m => $"{m.Groups[1].Value}: {m.Groups[2].Value}").ToList();

    [Fact]
    public void The_deploy_plan_runs_its_actions_in_order_under_the_exit_trap()
    {
        var script = HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options);
        var steps = TimedSteps(script);
        Assert.Equal(
        [
            "preflight: check_host_tools",
            "lock: acquire_lock \"$lock_dir\" \"$env_name\" \"deploy of $release_version\" 90",
            "preflight: check_public_port",
            "pull: pull_image",
            "reconcile: reconcile_environment",
            "start: start_green",
            "health: wait_healthy",
            "switch: switch_traffic",
            "record: record_release deploy",
            "drain: drain_previous",
            "prune: prune_releases",
        ], steps);
        Assert.True(script.IndexOf("trap on_exit EXIT\n", StringComparison.Ordinal) < script.IndexOf("\ntimed preflight", StringComparison.Ordinal));
        Assert.Contains("release_version='1.2.3'\nrelease_digest='sha256:" + new string('c', 64) + "'\nrelease_image='registry.example:5000/webapp@sha256:", script);
        Assert.Contains("deployed_by='ci-bot'\n", script);
    }

    [Fact]
    public void With_a_bake_the_previous_release_is_baselined_before_the_switch_and_stopped_only_after_the_bake()
    {
        var script = HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Baked);
        var steps = TimedSteps(script);
        Assert.Equal(
        [
            "preflight: check_host_tools",
            "lock: acquire_lock \"$lock_dir\" \"$env_name\" \"deploy of $release_version\" 90",
            "preflight: check_public_port",
            "pull: pull_image",
            "reconcile: reconcile_environment",
            "start: start_green",
            "health: wait_healthy",
            "baseline: bake_prepare",
            "switch: switch_traffic",
            "record: record_release deploy",
            "drain: quiesce_previous",
            "bake: bake_watch",
            "stop: stop_previous",
            "prune: prune_releases",
        ], steps);
        Assert.Contains("\nbake_ms=30000\nbake_interval_ms=3000\nbake_max_error_rate=0.01\nbake_latency_ratio=2\nbake_latency_floor=0.25\n", script);
        Assert.Contains("probe_paths=('/' '/cloud' '/best-practices' '/version')\n", script);
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

    [Fact]
    public void The_rollback_plan_quotes_the_target_version_and_shares_the_deploy_path()
    {
        var script = HostScripts.Rollback(Host, DeployEnvironment.Production, "1.0.0+build.7", Options);
        Assert.Contains("\ntimed resolve resolve_rollback_target '1.0.0+build.7'\n", script);
        Assert.Contains("\ntimed health wait_healthy\ntimed switch switch_traffic\ntimed record record_release rollback\n", script);
        Assert.Contains("env_name='production'\n", script);
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void No_plan_carries_credentials(string name, string script)
    {
        foreach (var word in new[] { "docker login", "--password", "AWS_SECRET", "AWS_ACCESS_KEY", "X-Registry-Auth", "Authorization" })
            Assert.False(script.Contains(word, StringComparison.OrdinalIgnoreCase), $"{name} mentions {word}");
    }
}
