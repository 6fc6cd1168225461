using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>
/// Pins of computed text, as Kamal pins its commands: the values header a plan renders for distinct inputs (quoting,
/// a self-describing host, a bake, several environments; only the values the plan's text reads), and the steps of every
/// plan in order. What the functions do is run under bash by ShellFunctionTests, BakeFunctionTests and the deploy tests.
/// </summary>
public sealed class PlanTextTests
{
    static readonly HostSettings Host = new() { StateRoot = "/srv/deploy" };
    static readonly PinnedImage Release = new("1.2.3", "registry.example:5000/webapp", "sha256:" + new string('c', 64), "abcdef1");
    static readonly DeployOptions Options = new() { DeployedBy = "ci-bot", LockWait = TimeSpan.FromSeconds(90) };

    /// <summary>The values header: between the shell options and the first file.</summary>
    static string Header(string script)
    {
        var start = script.IndexOf("umask 022\n\n", StringComparison.Ordinal) + "umask 022\n\n".Length;
        return script[start..script.IndexOf("\n# --- lib/output.sh ---\n", StringComparison.Ordinal)];
    }

    static string Steps(string script) => script[(script.IndexOf("# --- steps ---\n", StringComparison.Ordinal) + "# --- steps ---\n".Length)..];

    [Fact]
    public void A_deploy_offers_the_host_the_environment_the_lock_wait_and_the_release()
    {
        Assert.Equal("""
            app='webapp'
            root='/srv/deploy'
            reads_host_config='0'
            host_config_file='/etc/webapp-deploy/host.env'
            docker_host=''
            docker='docker'
            haproxy='haproxy'
            socat='socat'
            curl='curl'
            deployed_by='ci-bot'
            public_bind=''
            private_port_first='20000'
            private_port_last='20999'
            env_name='staging'
            public_port='8081'
            container_port='8080'
            aspnetcore_environment='Staging'
            health_path='/readyz'
            health_timeout='60'
            drain_timeout='30'
            stop_timeout='30'
            memory='512m'
            cpus='1.0'
            keep_releases='3'
            lock_wait='90'
            release_version='1.2.3'
            release_digest='sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'
            release_image='registry.example:5000/webapp@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'
            release_commit='abcdef1'
            release_unattested=''

            """, Header(HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options)));
    }

    [Fact]
    public void A_self_describing_host_with_a_quote_in_a_path_and_only_the_values_force_unlock_reads()
    {
        var host = new HostSettings
        {
            StateRoot = "/srv/shop", AppName = "shop", DockerHost = "unix:///run/engine.sock", Haproxy = "/opt/it's/haproxy",
            ReadsHostConfig = true, PublicBindAddress = "127.0.0.1", PrivatePortFirst = 21000, PrivatePortLast = 21099,
        };
        Assert.Equal("""
            app='shop'
            root='/srv/shop'
            reads_host_config='1'
            host_config_file='/etc/webapp-deploy/host.env'
            docker_host='unix:///run/engine.sock'
            docker='docker'
            haproxy='/opt/it'\''s/haproxy'
            socat='socat'
            curl='curl'
            deployed_by='ci-bot'
            public_bind='127.0.0.1'
            env_name='production'
            public_port='8080'

            """, Header(HostScripts.ForceUnlock(host, DeployEnvironment.Production with { HealthPath = "/healthz/ready" }, Options)));
    }

    [Fact]
    public void A_bake_adds_its_settings_and_a_missing_commit_is_empty()
    {
        var bake = new BakeSettings
        {
            Duration = TimeSpan.FromSeconds(45), Interval = TimeSpan.FromMilliseconds(2500), MaxErrorRate = 0.02, MaxLatencyRatio = 1.5,
            LatencyFloor = TimeSpan.FromMilliseconds(120), MinRequests = 7, ProbePaths = ["/", "/cloud"],
            Confidence = 0.9, ToleratedShift = 0.2, ProbeBudget = 200, MinPairs = 30,
        };
        var environment = DeployEnvironment.Staging with { MetricsPath = "/internal/metrics" };
        var plain = HostScripts.Deploy(Host, environment, Release with { Commit = null }, Options);
        var baked = HostScripts.Deploy(Host, environment, Release with { Commit = null }, Options with { Bake = bake });
        Assert.EndsWith("\nrelease_commit=''\nrelease_unattested=''\n", Header(plain));
        Assert.Equal(Header(plain) + $$"""
            metrics_path='/internal/metrics'
            bake_ms='45000'
            bake_interval_ms='2500'
            bake_max_error_rate='0.02'
            bake_latency_ratio='1.5'
            bake_latency_floor='0.12'
            bake_min_requests='7'
            probe_paths=('/' '/cloud')
            judge_confidence='0.9'
            judge_tolerance='0.2'
            judge_min_pairs='30'
            judge_budget='200'
            judge_step='20'
            judge_streams='2'
            judge_alpha='{{PairedJudge.NominalLevel(0.1, 10).ToString(System.Globalization.CultureInfo.InvariantCulture)}}'

            """, Header(baked));
    }

    [Fact]
    public void Teardown_of_every_environment_offers_their_names_and_ports_as_arrays()
    {
        Assert.Equal("""
            app='webapp'
            root='/srv/deploy'
            reads_host_config='0'
            host_config_file='/etc/webapp-deploy/host.env'
            docker_host=''
            docker='docker'
            haproxy='haproxy'
            socat='socat'
            curl='curl'
            deployed_by='ci-bot'
            public_bind=''
            lock_wait='90'
            environments=('staging' 'production')
            environment_ports=('8081' '8080')

            """, Header(HostScripts.TeardownAll(Host, DeployEnvironment.All, Options)));
    }

    [Fact]
    public void A_rollback_offers_its_target_and_an_empty_release_that_it_resolves_on_the_host()
    {
        var header = Header(HostScripts.Rollback(Host, DeployEnvironment.Production, "1.0.0+build.7", Options));
        Assert.Contains("\nenv_name='production'\npublic_port='8080'\n", header);
        Assert.EndsWith("""

            keep_releases='3'
            lock_wait='90'
            rollback_to='1.0.0+build.7'
            release_version=''
            release_digest=''
            release_image=''
            release_commit=''

            """, header);
    }

    /// <summary>The plan's steps as the commands they run, in order: "timed f" for a timed step, "trap f" for a trap's action.</summary>
    static string[] StepOrder(string script)
    {
        var commands = ShellCommands.Of(Steps(script)).Commands;
        var order = new List<string>();
        for (var i = 0; i < commands.Count; i++)
            order.Add(commands[i] is "timed" or "trap" ? $"{commands[i]} {commands[++i]}" : commands[i]);
        return [.. order];
    }

    public static TheoryData<string, string, string[]> PlanSteps => new()
    {
        {
            "deploy", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options),
            ["trap on_deploy_exit", "trap exit", "trap exit", "use_host", "use_environment", "say", "timed check_host_tools", "timed acquire_lock", "timed check_public_port", "timed pull_image", "timed reconcile_environment", "timed start_green", "timed wait_healthy",
                "timed switch_traffic", "timed record_release", "timed drain_previous", "timed prune_releases", "say"]
        },
        {
            "deploy with a bake", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options with { Bake = new BakeSettings { Duration = TimeSpan.FromSeconds(30) } }),
            ["trap on_deploy_exit", "trap exit", "trap exit", "use_host", "use_environment", "say", "timed check_host_tools", "timed acquire_lock", "timed check_public_port", "timed pull_image", "timed reconcile_environment", "timed start_green", "timed wait_healthy",
                "timed bake_prepare", "timed switch_traffic", "timed record_release", "timed quiesce_previous", "timed bake_watch", "timed stop_previous",
                "timed prune_releases", "say"]
        },
        {
            "rollback", HostScripts.Rollback(Host, DeployEnvironment.Production, null, Options),
            ["trap on_deploy_exit", "trap exit", "trap exit", "use_host", "use_environment", "timed check_host_tools", "timed acquire_lock", "timed check_public_port", "timed resolve_rollback_target",
                "timed pull_image", "timed reconcile_environment", "timed start_green", "timed wait_healthy", "timed switch_traffic", "timed record_release", "timed drain_previous",
                "timed prune_releases", "say"]
        },
        {
            "status", HostScripts.Status(Host, DeployEnvironment.Staging),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "use_environment", "report_status"]
        },
        {
            "history", HostScripts.History(Host, DeployEnvironment.Staging),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "use_environment", "report_history"]
        },
        {
            "evidence", HostScripts.Evidence(Host, DeployEnvironment.Staging),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "use_environment", "report_status", "report_history"]
        },
        {
            "logs", HostScripts.Logs(Host, DeployEnvironment.Staging, 50),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "use_environment", "show_logs"]
        },
        {
            "force-unlock", HostScripts.ForceUnlock(Host, DeployEnvironment.Staging, Options),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "use_environment", "force_unlock"]
        },
        {
            "teardown", HostScripts.Teardown(Host, DeployEnvironment.Staging, Options),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "check_host_tools", "teardown_environments"]
        },
        {
            "teardown all", HostScripts.TeardownAll(Host, DeployEnvironment.All, Options),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "check_host_tools", "teardown_environments", "teardown_proxy"]
        },
        {
            "ensure proxy", HostScripts.EnsureProxy(Host),
            ["trap on_exit", "trap exit", "trap exit", "use_host", "check_host_tools", "acquire_lock", "proxy_running", "say", "[", "load_proxy", "say"]
        },
    };

    [Theory]
    [MemberData(nameof(PlanSteps))]
    public void Every_plan_runs_its_steps_in_order_under_its_exit_trap(string name, string script, string[] steps) =>
        Assert.True(steps.SequenceEqual(StepOrder(script)), $"{name}: {string.Join(", ", StepOrder(script).Select(s => $"\"{s}\""))}");
}
