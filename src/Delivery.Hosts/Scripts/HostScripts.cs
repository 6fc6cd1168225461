using System.Text;
using static Delivery.Hosts.ShellQuote;

namespace Delivery.Hosts.Scripts;

/// <summary>
/// Plans: each joins the actions it needs into one script with <c>set -euo pipefail</c> and an exit trap that
/// releases the locks it holds (also on INT/TERM). The same text runs under local bash or SSM's AWS-RunShellScript.
/// No secret ever appears here: registry access on a host comes from its docker config / credential helper.
/// </summary>
public static class HostScripts
{
    public static string Deploy(HostSettings host, DeployEnvironment env, Release release, DeployOptions options)
    {
        Check(host, env);
        release.Validate();
        var bake = options.Bake;
        bake.Validate();
        return new StringBuilder()
            .Append(ScriptLibrary.Header($"deploy {release.Version} ({release.Digest}) to {env.Name}"))
            .Append(ScriptContext.Host(host, options.DeployedByOrDefault()))
            .Append(ScriptContext.Environment(host, env))
            .Append(ScriptContext.Release(release))
            .Append(DeployFunctions(host, env))
            .Append(bake.Enabled ? BakeActions.All(bake, env) : "")
            .Append(Trap(DeployCleanup))
            .Append($$"""
                say "deploying $release_version to $env_name"
                timed preflight check_host_tools
                timed lock acquire_lock "$lock_dir" "$env_name" "deploy of $release_version" {{LockWaitSeconds(options)}}
                timed preflight check_public_port
                timed pull pull_image
                timed reconcile reconcile_environment
                timed start start_green
                timed health wait_healthy

                """)
            .Append(bake.Enabled ? BakedSwitch : PlainSwitch)
            .Append("""
                timed prune prune_releases
                say "deployed $release_version to $env_name"

                """)
            .ToString();
    }

    /// <summary>Back to the previous release, or to <paramref name="toVersion"/>, through the same health gate and switch.</summary>
    public static string Rollback(HostSettings host, DeployEnvironment env, string? toVersion, DeployOptions options)
    {
        Check(host, env);
        if (toVersion is not null)
            new Release(toVersion, "x", "sha256:" + new string('0', 64)).Validate();
        return new StringBuilder()
            .Append(ScriptLibrary.Header($"roll {env.Name} back to {toVersion ?? "the previous release"}"))
            .Append(ScriptContext.Host(host, options.DeployedByOrDefault()))
            .Append(ScriptContext.Environment(host, env))
            .Append("release_version='' release_digest='' release_image='' release_commit=''\n")
            .Append(DeployFunctions(host, env))
            .Append(ReleaseActions.ResolveRollback)
            .Append(Trap(DeployCleanup))
            .Append($$"""
                timed preflight check_host_tools
                timed lock acquire_lock "$lock_dir" "$env_name" 'rollback' {{LockWaitSeconds(options)}}
                timed preflight check_public_port
                timed resolve resolve_rollback_target {{Quote(toVersion ?? "")}}
                timed reconcile reconcile_environment
                timed start start_green
                timed health wait_healthy
                timed switch switch_traffic
                timed record record_release rollback
                timed drain drain_previous
                timed prune prune_releases
                say "rolled $env_name back to $release_version"

                """)
            .ToString();
    }

    public static string Status(HostSettings host, DeployEnvironment env) => Query(host, env, $"status of {env.Name}", "report_status\n");

    public static string History(HostSettings host, DeployEnvironment env) => Query(host, env, $"history of {env.Name}", "report_history\n");

    /// <summary>What the environment serves plus its whole history: the evidence for promoting a digest elsewhere.</summary>
    public static string Evidence(HostSettings host, DeployEnvironment env) =>
        Query(host, env, $"status and history of {env.Name}", "report_status\nreport_history\n");

    public static string Logs(HostSettings host, DeployEnvironment env, int lines)
    {
        if (lines is < 1 or > 100_000) throw new Delivery.Core.DeliveryException($"Log line count must be between 1 and 100000, not {lines}.");
        Check(host, env);
        return new StringBuilder()
            .Append(ScriptLibrary.Header($"last {lines} log lines of {env.Name}"))
            .Append(ScriptContext.Host(host, DeployOptions.DefaultDeployer()))
            .Append(ScriptContext.Environment(host, env))
            .Append(ScriptLibrary.Output + ScriptLibrary.Field)
            .Append(ContainerActions.Logs(lines))
            .Append("show_logs\n")
            .ToString();
    }

    public static string ForceUnlock(HostSettings host, DeployEnvironment env, DeployOptions options)
    {
        Check(host, env);
        return new StringBuilder()
            .Append(ScriptLibrary.Header($"force-unlock {env.Name}"))
            .Append(ScriptContext.Host(host, options.DeployedByOrDefault()))
            .Append(ScriptContext.Environment(host, env))
            .Append(ScriptLibrary.All)
            .Append(LockActions.All)
            .Append("force_unlock \"$lock_dir\" \"$env_name\"\n")
            .ToString();
    }

    public static string Teardown(HostSettings host, DeployEnvironment env, DeployOptions options)
    {
        Check(host, env);
        return new StringBuilder()
            .Append(ScriptLibrary.Header($"tear down {env.Name}"))
            .Append(ScriptContext.Host(host, options.DeployedByOrDefault()))
            .Append(ScriptContext.Environment(host, env))
            .Append(TeardownFunctions())
            .Append(Trap(""))
            .Append($$"""
                check_host_tools
                acquire_lock "$lock_dir" "$env_name" 'teardown' {{LockWaitSeconds(options)}}
                teardown_environment
                release_lock "$lock_dir"
                rmdir "$env_dir" 2>/dev/null || true

                """)
            .ToString();
    }

    /// <summary>Every environment of this app on the host, then the proxy process and its files.</summary>
    public static string TeardownAll(HostSettings host, IEnumerable<DeployEnvironment> environments, DeployOptions options)
    {
        host.Validate();
        var script = new StringBuilder()
            .Append(ScriptLibrary.Header("tear down every environment and the proxy"))
            .Append(ScriptContext.Host(host, options.DeployedByOrDefault()))
            .Append(TeardownFunctions())
            .Append(Trap(""))
            .Append("check_host_tools\n");
        foreach (var env in environments)
        {
            env.Validate();
            script.Append(ScriptContext.Environment(host, env))
                .Append($$"""
                    acquire_lock "$lock_dir" "$env_name" 'teardown' {{LockWaitSeconds(options)}}
                    teardown_environment
                    release_lock "$lock_dir"
                    rmdir "$env_dir" 2>/dev/null || true

                    """);
        }
        return script.Append("teardown_proxy\n").ToString();
    }

    /// <summary>Starts the proxy from its files on disk when it is not running (e.g. after a reboot); otherwise does nothing.</summary>
    public static string EnsureProxy(HostSettings host)
    {
        host.Validate();
        return new StringBuilder()
            .Append(ScriptLibrary.Header("start the proxy from its configuration on disk"))
            .Append(ScriptContext.Host(host, DeployOptions.DefaultDeployer()))
            .Append(ScriptLibrary.All)
            .Append(LockActions.All)
            .Append(ProxyActions.All)
            .Append(ContainerActions.CheckTools)
            .Append(Trap(""))
            .Append("""
                check_host_tools
                acquire_lock "$proxy_lock_dir" 'the proxy' 'start of the proxy' 60
                if proxy_running; then
                  say "the proxy is running"
                elif [ -f "$proxy_conf_dir/00-global.cfg" ]; then
                  load_proxy
                else
                  say "the proxy has no configuration yet; the first deploy starts it"
                fi

                """)
            .ToString();
    }

    const string PlainSwitch = """
        timed switch switch_traffic
        timed record record_release deploy
        timed drain drain_previous

        """;

    /// <summary>The previous release is drained into maint but keeps running until the bake passes.</summary>
    const string BakedSwitch = """
        timed baseline bake_prepare
        timed switch switch_traffic
        timed record record_release deploy
        timed drain quiesce_previous
        timed bake bake_watch
        timed stop stop_previous

        """;

    const string DeployCleanup = """
          if [ -n "${green_name:-}" ] && [ "${green_committed:-0}" != 1 ]; then
            if [ "${switching:-0}" = 1 ]; then
              ( point_proxy_at_current ) || say "warning: could not point the proxy back at the serving release"
            fi
            say "removing $green_name: it never became the serving release"
            "$docker" rm -f "$green_name" >/dev/null 2>&1
          fi
          [ -z "${bake_dir:-}" ] || rm -rf "$bake_dir"

        """;

    /// <summary>The exit trap: plan-specific cleanup, then release whatever locks this script holds.</summary>
    public static string Trap(string cleanup) =>
        "on_exit() {\n" +
        "  local status=$?\n" +
        "  set +e\n" +
        // A second signal (a repeated Ctrl-C, or SSM's cancel reaching both the wrapper and the script) must not
        // cut the cleanup short before the locks are released.
        "  trap '' INT TERM\n" +
        cleanup +
        "  release_lock \"${proxy_lock_dir:-}\"\n" +
        "  release_lock \"${lock_dir:-}\"\n" +
        "  exit \"$status\"\n" +
        "}\n" +
        "trap on_exit EXIT\n" +
        "trap 'exit 130' INT\n" +
        "trap 'exit 143' TERM\n";

    static string DeployFunctions(HostSettings host, DeployEnvironment env) =>
        ScriptLibrary.All +
        LockActions.All +
        ProxyActions.All +
        ContainerActions.CheckTools +
        ContainerActions.List +
        ContainerActions.Pull +
        ContainerActions.Reconcile(env) +
        ContainerActions.StartGreen(host, env) +
        HealthActions.WaitHealthy(env) +
        ReleaseActions.Switch +
        ReleaseActions.Commit +
        ReleaseActions.Record +
        ContainerActions.Drain(env) +
        ContainerActions.Retained +
        ContainerActions.Prune(env);

    static string TeardownFunctions() =>
        ScriptLibrary.All + LockActions.All + ProxyActions.All +
        ContainerActions.CheckTools + ContainerActions.List + ContainerActions.RemoveAll +
        TeardownActions.Environment + TeardownActions.Proxy;

    static string Query(HostSettings host, DeployEnvironment env, string title, string calls)
    {
        Check(host, env);
        return new StringBuilder()
            .Append(ScriptLibrary.Header(title))
            .Append(ScriptContext.Host(host, DeployOptions.DefaultDeployer()))
            .Append(ScriptContext.Environment(host, env))
            .Append(ScriptLibrary.All)
            .Append(LockActions.Describe)
            .Append(ContainerActions.List)
            .Append(ContainerActions.Retained)
            .Append(StatusActions.Report(env))
            .Append(StatusActions.History)
            .Append(calls)
            .ToString();
    }

    static void Check(HostSettings host, DeployEnvironment env)
    {
        host.Validate();
        env.Validate();
    }

    static string LockWaitSeconds(DeployOptions options) =>
        ((int)Math.Ceiling(Math.Max(0, options.LockWait.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
