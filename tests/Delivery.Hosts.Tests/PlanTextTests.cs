using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Tests;

/// <summary>
/// Pins of computed text, as Kamal pins its commands: the values header a plan renders for distinct inputs (quoting,
/// a self-describing host, a bake, several environments; only the values the plan's text reads), and the steps of every
/// plan in order. What the functions do is run under bash by ShellFunctionTests, BakeFunctionTests and the deploy tests.
/// </summary>
public sealed class PlanTextTests
{
    static readonly HostSettings Host = new() { StateRoot = "/srv/deploy" };
    static readonly Release Release = new("1.2.3", "registry.example:5000/webapp", "sha256:" + new string('c', 64), "abcdef1");
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
            LatencyFloor = TimeSpan.FromMilliseconds(120), MinRequests = 7, ProbesPerInterval = 6, ProbePaths = ["/", "/cloud"],
        };
        var script = HostScripts.Deploy(Host, DeployEnvironment.Staging with { MetricsPath = "/internal/metrics" }, Release with { Commit = null }, Options with { Bake = bake });
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
            release_commit=''
            metrics_path='/internal/metrics'
            bake_ms='45000'
            bake_interval_ms='2500'
            bake_max_error_rate='0.02'
            bake_latency_ratio='1.5'
            bake_latency_floor='0.12'
            bake_min_requests='7'
            bake_probes='6'
            probe_paths=('/' '/cloud')

            """, Header(script));
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
            env_name='production'
            public_port='8080'
            container_port='8080'
            aspnetcore_environment='Production'
            health_path='/readyz'
            health_timeout='60'
            drain_timeout='30'
            stop_timeout='30'
            memory='512m'
            cpus='1.0'
            keep_releases='3'
            lock_wait='90'
            rollback_to='1.0.0+build.7'
            release_version=''
            release_digest=''
            release_image=''
            release_commit=''

            """, Header(HostScripts.Rollback(Host, DeployEnvironment.Production, "1.0.0+build.7", Options)));
    }


    public static TheoryData<string, string, string> PlanSteps => new()
    {
        {
            "deploy", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options),

            """
            trap on_deploy_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            say "deploying $release_version to $env_name"
            timed preflight check_host_tools
            timed lock acquire_lock "$lock_dir" "$env_name" "deploy of $release_version" "$lock_wait"
            timed preflight check_public_port
            timed pull pull_image
            timed reconcile reconcile_environment
            timed start start_green
            timed health wait_healthy
            timed switch switch_traffic
            timed record record_release deploy
            timed drain drain_previous
            timed prune prune_releases
            say "deployed $release_version to $env_name"

            """
        },
        {
            "deploy with a bake", HostScripts.Deploy(Host, DeployEnvironment.Staging, Release, Options with { Bake = new BakeSettings { Duration = TimeSpan.FromSeconds(30) } }),

            """
            trap on_deploy_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            say "deploying $release_version to $env_name"
            timed preflight check_host_tools
            timed lock acquire_lock "$lock_dir" "$env_name" "deploy of $release_version" "$lock_wait"
            timed preflight check_public_port
            timed pull pull_image
            timed reconcile reconcile_environment
            timed start start_green
            timed health wait_healthy
            timed baseline bake_prepare
            timed switch switch_traffic
            timed record record_release deploy
            timed drain quiesce_previous
            timed bake bake_watch
            timed stop stop_previous
            timed prune prune_releases
            say "deployed $release_version to $env_name"

            """
        },
        {
            "rollback", HostScripts.Rollback(Host, DeployEnvironment.Production, null, Options),

            """
            trap on_deploy_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            timed preflight check_host_tools
            timed lock acquire_lock "$lock_dir" "$env_name" 'rollback' "$lock_wait"
            timed preflight check_public_port
            timed resolve resolve_rollback_target "$rollback_to"
            timed reconcile reconcile_environment
            timed start start_green
            timed health wait_healthy
            timed switch switch_traffic
            timed record record_release rollback
            timed drain drain_previous
            timed prune prune_releases
            say "rolled $env_name back to $release_version"

            """
        },
        {
            "status", HostScripts.Status(Host, DeployEnvironment.Staging),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            report_status

            """
        },
        {
            "history", HostScripts.History(Host, DeployEnvironment.Staging),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            report_history

            """
        },
        {
            "evidence", HostScripts.Evidence(Host, DeployEnvironment.Staging),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            report_status
            report_history

            """
        },
        {
            "logs", HostScripts.Logs(Host, DeployEnvironment.Staging, 50),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            show_logs "$log_lines"

            """
        },
        {
            "force-unlock", HostScripts.ForceUnlock(Host, DeployEnvironment.Staging, Options),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            force_unlock "$lock_dir" "$env_name"

            """
        },
        {
            "teardown", HostScripts.Teardown(Host, DeployEnvironment.Staging, Options),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            check_host_tools
            teardown_environments

            """
        },
        {
            "teardown all", HostScripts.TeardownAll(Host, DeployEnvironment.All, Options),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            check_host_tools
            teardown_environments
            teardown_proxy

            """
        },
        {
            "ensure proxy", HostScripts.EnsureProxy(Host),

            """
            trap on_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            check_host_tools
            acquire_lock "$proxy_lock_dir" 'the proxy' 'start of the proxy' 60
            if proxy_running; then
              say "the proxy is running"
            elif [ -f "$proxy_conf_dir/00-global.cfg" ]; then
              load_proxy
            else
              say "the proxy has no configuration yet; the first deploy starts it"
            fi

            """
        },
    };

    [Theory]
    [MemberData(nameof(PlanSteps))]
    public void Every_plan_runs_its_steps_in_order_under_its_exit_trap(string name, string script, string steps) =>
        Assert.True(steps == Steps(script), $"{name}:\n{Steps(script)}");
}
