using System.Text;
using Delivery.Hosts.Bake;

namespace Delivery.Hosts.Scripts;

/// <summary>
/// Plans: each is one script with <c>set -euo pipefail</c>, the values header (<see cref="ScriptValues"/>), the shell
/// files it uses (<see cref="ShellFiles"/>) and its steps under an exit trap that releases the locks it holds (also on
/// INT/TERM). The same text runs under local bash or SSM's AWS-RunShellScript. The steps are constant text: every value
/// comes from the header. No secret ever appears here: registry access on a host comes from its docker config /
/// credential helper, or from a credential parameter the host reads with its own role (registry.sh).
/// </summary>
public static class HostScripts
{
    public static string Deploy(HostSettings host, DeployEnvironment env, PinnedImage release, DeployOptions options, ReleasePhaseResult? releasePhase = null)
    {
        Check(host, env);
        release.Validate();
        var bake = options.Bake;
        bake.Validate();
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), env, options.RegistryAccess).Add("lock_wait", LockWaitSeconds(options));
        values.AddRelease(release.Version, release.Digest, release.ImageReference, release.Commit ?? "");
        values.Add("release_unattested", options.Unattested ?? "");
        if (bake.Enabled) values.AddBake(bake, env);
        if (releasePhase is not null) values.Add("release_phase_ms", releasePhase.Duration);
        string[] files = bake.Enabled ? ["release.sh", "health.sh", "container.sh", "bake.sh"] : ["release.sh", "health.sh", "container.sh"];
        return Render($"deploy {release.Version} ({release.Digest}) to {env.Name}", values, WithMaintenanceEnd(files, options),
            DeploySteps + (bake.Enabled ? BakedSwitch : PlainSwitch) + (options.EndMaintenance ? MaintenanceEnd : "") + DeployEnd);
    }

    /// <summary>The release phase: under the environment's lock, pulls the new image and runs the command in it once;
    /// switches nothing. Its exit code and duration come back as a <see cref="HostDataKind.ReleasePhase"/> line.</summary>
    public static string ReleasePhase(HostSettings host, DeployEnvironment env, PinnedImage release, ReleasePhaseSettings phase, DeployOptions options)
    {
        Check(host, env);
        release.Validate();
        phase.Validate();
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), env, options.RegistryAccess).Add("lock_wait", LockWaitSeconds(options))
            .Add("release_command", phase.Words)
            .Add("release_command_timeout", (long)Math.Ceiling(phase.Timeout.TotalSeconds))
            .Add("release_output_lines", phase.OutputLines);
        values.AddRelease(release.Version, release.Digest, release.ImageReference, release.Commit ?? "");
        // pull_image is container.sh's; release.sh reads what its start_green sets, so with it the plan is whole for shellcheck.
        return Render($"release phase of {release.Version} ({release.Digest}) on {env.Name}", values, ["release-phase.sh", "container.sh", "release.sh"], """
            trap on_release_phase_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            timed preflight check_host_tools
            timed lock acquire_lock "$lock_dir" "$env_name" "release phase of $release_version" "$lock_wait"
            timed pull pull_image
            timed release_phase run_release_phase

            """);
    }

    /// <summary>Before any host switches: the host logs in to the release's registry (with its credential parameter, when
    /// the site gave one) and pulls the release, so a registry the host cannot pull from stops the deploy with a typed
    /// <see cref="HostDataKind.Failure"/> while every host still serves what it served. Takes no lock and changes no
    /// environment: the deploy that follows finds the image on the host.</summary>
    public static string PullCheck(HostSettings host, DeployEnvironment env, PinnedImage release, DeployOptions options)
    {
        Check(host, env);
        release.Validate();
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), env, options.RegistryAccess);
        values.AddRelease(release.Version, release.Digest, release.ImageReference, release.Commit ?? "");
        return Render($"pull check of {release.Version} ({release.Digest}) for {env.Name}", values, ["container.sh", "release.sh"], HostContext + """
            use_environment "$env_name" "$public_port"
            check_engine
            timed pull pull_image

            """);
    }

    /// <summary>Back to the previous release, or to <paramref name="toVersion"/>, through the same health gate and switch.</summary>
    public static string Rollback(HostSettings host, DeployEnvironment env, string? toVersion, DeployOptions options)
    {
        Check(host, env);
        if (toVersion is not null)
            new PinnedImage(toVersion, "x", "sha256:" + new string('0', 64)).Validate();
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), env, options.RegistryAccess)
            .Add("lock_wait", LockWaitSeconds(options))
            .Add("rollback_to", toVersion ?? "");
        // resolve_rollback_target sets these from a retained container.
        values.AddRelease("", "", "", "");
        return Render($"roll {env.Name} back to {toVersion ?? "the previous release"}", values,
            WithMaintenanceEnd(["release.sh", "health.sh", "container.sh"], options), RollbackSteps + (options.EndMaintenance ? MaintenanceEnd : "") + RollbackEnd);
    }

    /// <summary>Undoes a stopped or cancelled deploy of <paramref name="fromDigest"/> on a host whose state the build
    /// cannot know (its run may have been SIGKILLed before or after its switch): when the host serves that digest, it
    /// goes back to the previous release through the same health gate and switch as a rollback; otherwise it only
    /// reconciles what the killed run left (a container that never served, a half-done switch, its lock) and reports
    /// what it serves.</summary>
    public static string SwitchBack(HostSettings host, DeployEnvironment env, string fromDigest, DeployOptions options)
    {
        Check(host, env);
        new PinnedImage("0.0.0", "x", fromDigest).Validate();
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), env)
            .Add("lock_wait", LockWaitSeconds(options))
            .Add("switch_back_from", fromDigest);
        values.AddRelease("", "", "", "");
        return Render($"switch {env.Name} back from {fromDigest}", values, ["switch-back.sh", "release.sh", "health.sh", "container.sh"],
            SwitchBackSteps + RollbackEnd);
    }

    /// <summary>Checks every retained rollback target of the environment (see verify-rollback.sh); touches nothing that serves.</summary>
    public static string VerifyRollback(HostSettings host, DeployEnvironment env)
    {
        Check(host, env);
        return Render($"verify the rollback targets of {env.Name}", PlanValues.Of(host, DeployOptions.DefaultDeployer(), env),
            ["verify-rollback.sh", "release.sh"], """
            trap on_verify_exit EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            use_host
            use_environment "$env_name" "$public_port"
            check_host_tools
            verify_rollback_targets

            """);
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
        return Render($"last {lines} log lines of {env.Name}", PlanValues.Of(host, DeployOptions.DefaultDeployer(), env).Add("log_lines", lines),
            ["status.sh"], EnvironmentContext + "show_logs \"$log_lines\"\n");
    }

    public static string ForceUnlock(HostSettings host, DeployEnvironment env, DeployOptions options)
    {
        Check(host, env);
        return Render($"force-unlock {env.Name}", PlanValues.Of(host, options.DeployedByOrDefault(), env),
            ["lock.sh"], EnvironmentContext + "force_unlock \"$lock_dir\" \"$env_name\"\n");
    }

    public static string Teardown(HostSettings host, DeployEnvironment env, DeployOptions options)
    {
        Check(host, env);
        return TeardownPlan(host, [env], options, $"tear down {env.Name}", "");
    }

    /// <summary>Every environment of this app on the host, then the proxy process and its files.</summary>
    public static string TeardownAll(HostSettings host, IEnumerable<DeployEnvironment> environments, DeployOptions options)
    {
        host.Validate();
        var all = environments.ToList();
        foreach (var env in all) env.Validate();
        return TeardownPlan(host, all, options, "tear down every environment and the proxy", "teardown_proxy\n");
    }

    /// <summary>Starts the proxy from its files on disk when it is not running (e.g. after a reboot); otherwise does nothing.</summary>
    public static string EnsureProxy(HostSettings host)
    {
        host.Validate();
        return Render("start the proxy from its configuration on disk", PlanValues.Of(host, DeployOptions.DefaultDeployer(), null),
            ["proxy.sh", "lock.sh"], HostContext + """
                check_host_tools
                acquire_lock "$proxy_lock_dir" 'the proxy' 'start of the proxy' 60
                if proxy_running; then
                  say "the proxy is running"
                elif [ -f "$proxy_conf_dir/00-global.cfg" ]; then
                  load_proxy
                else
                  say "the proxy has no configuration yet; the first deploy starts it"
                fi

                """);
    }

    /// <summary>Maintenance mode on (or a new message while on): under the environment's lock and the proxy's.</summary>
    public static string MaintenanceOn(HostSettings host, DeployEnvironment env, MaintenanceSettings settings, DeployOptions options)
    {
        Check(host, env);
        settings.Validate();
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), env)
            .Add("lock_wait", LockWaitSeconds(options))
            .Add("maintenance_message", settings.Message)
            .Add("maintenance_retry_after", (long)Math.Ceiling(settings.RetryAfter.TotalSeconds));
        return Render($"maintenance of {env.Name} on", values, ["maintenance-mode.sh", "lock.sh"], EnvironmentContext + MaintenanceLocks +
            "maintenance_enable \"$maintenance_message\" \"$maintenance_retry_after\"\n");
    }

    public static string MaintenanceOff(HostSettings host, DeployEnvironment env, DeployOptions options)
    {
        Check(host, env);
        return Render($"maintenance of {env.Name} off", PlanValues.Of(host, options.DeployedByOrDefault(), env).Add("lock_wait", LockWaitSeconds(options)),
            ["maintenance-mode.sh", "lock.sh"], EnvironmentContext + MaintenanceLocks + "maintenance_disable\n");
    }

    /// <summary>Reads only: whether the environment is in maintenance, since when, by whom, with which message.</summary>
    public static string MaintenanceStatus(HostSettings host, DeployEnvironment env)
    {
        Check(host, env);
        return Render($"maintenance status of {env.Name}", PlanValues.Of(host, DeployOptions.DefaultDeployer(), env), ["maintenance.sh", "lock.sh"],
            EnvironmentContext + "maintenance_report\n");
    }

    /// <summary>ConfigureHost: waits until the host is ready for packages, installs ansible-core when missing, runs the
    /// playbook from the header (twice with <see cref="HostConfigurationSettings.CheckIdempotence"/>). The host's state
    /// root, app name and ports reach the playbook from <paramref name="host"/>; a host that reads its own host
    /// configuration (a fleet's) gets it written. With <paramref name="awsCli"/> (hosts that read a registry login
    /// from Parameter Store) it installs the AWS CLI where it is missing.</summary>
    public static string ConfigureHost(HostSettings host, HostConfigurationSettings settings, bool awsCli = false)
    {
        host.Validate();
        settings.Validate();
        var variables = new Dictionary<string, string>
        {
            ["webapp_state_root"] = host.StateRoot,
            ["webapp_app"] = host.AppName,
            ["webapp_staging_port"] = DeployEnvironment.Staging.PublicPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webapp_production_port"] = DeployEnvironment.Production.PublicPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webapp_host_config"] = host.ReadsHostConfig ? "true" : "false",
        };
        foreach (var (name, value) in settings.Variables) variables[name] = value;
        // Only its own values: the host's reach the playbook as its variables.
        var values = new ScriptValues()
            .Add("os_release_file", settings.OsReleaseFile)
            .Add("cloud_init_wait", (long)Math.Ceiling(settings.CloudInitWait.TotalSeconds))
            .Add("package_lock_wait", (long)Math.Ceiling(settings.PackageLockWait.TotalSeconds))
            .Add("aws_cli_needed", awsCli ? "true" : "false")
            .Add("playbook_archive", settings.PlaybookArchive)
            .Add("playbook_variables", variables.Select(v => $"{v.Key}={v.Value}"));
        return RenderOnly("configure this host with the ansible playbook", values, ["configure-host.sh"],
            ConfigureSteps + (settings.CheckIdempotence ? "check_playbook_syntax\nrun_playbook 1\ncheck_idempotent\n" : "run_playbook 1\n"));
    }

    const string ConfigureSteps = """
        trap on_configure_exit EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        detect_system
        check_privilege
        wait_cloud_init
        wait_package_lock
        ensure_ansible
        ensure_aws_cli
        unpack_playbook

        """;

    const string MaintenanceLocks = """
        acquire_lock "$lock_dir" "$env_name" 'maintenance' "$lock_wait"
        acquire_lock "$proxy_lock_dir" 'the proxy' "maintenance of $env_name" 60

        """;

    static string TeardownPlan(HostSettings host, IReadOnlyList<DeployEnvironment> environments, DeployOptions options, string title, string end)
    {
        var values = PlanValues.Of(host, options.DeployedByOrDefault(), null)
            .Add("lock_wait", LockWaitSeconds(options))
            .Add("environments", environments.Select(e => e.Name))
            .Add("environment_ports", environments.Select(e => e.PublicPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return Render(title, values, ["teardown.sh"], HostContext + "check_host_tools\nteardown_environments\n" + end);
    }

    static string Query(HostSettings host, DeployEnvironment env, string title, string calls)
    {
        Check(host, env);
        return Render(title, PlanValues.Of(host, DeployOptions.DefaultDeployer(), env), ["status.sh"], EnvironmentContext + calls);
    }

    /// <summary>The script: shebang and shell options, the values its text reads, its files, then its steps.</summary>
    internal static string Render(string title, ScriptValues values, IReadOnlyList<string> files, string steps) =>
        // The steps' context (HostContext) calls on_exit and use_host.
        RenderOnly(title, values, ["lib/host.sh", "lock.sh", .. files], steps);

    /// <summary>A script of exactly these files (and their needs): ConfigureHost's, which reads no deploy state.</summary>
    static string RenderOnly(string title, ScriptValues values, IReadOnlyList<string> files, string steps)
    {
        var functions = ShellFiles.Render(files);
        return new StringBuilder()
            .Append("#!/usr/bin/env bash\n")
            .Append($"# {title.Replace('\n', ' ')} (rendered by Delivery.Hosts; runs as one script on the host)\n")
            .Append("set -euo pipefail\nexec 2>&1\numask 022\n\n")
            .Append(values.Render(functions + steps))
            .Append(functions)
            .Append("\n# --- steps ---\n")
            .Append(steps)
            .ToString();
    }

    internal const string HostContext = """
        trap on_exit EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        use_host

        """;

    internal const string EnvironmentContext = HostContext + """
        use_environment "$env_name" "$public_port"

        """;

    const string DeployContext = """
        trap on_deploy_exit EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        use_host
        use_environment "$env_name" "$public_port"

        """;

    const string DeploySteps = DeployContext + """
        say "deploying $release_version to $env_name"
        timed preflight check_host_tools
        timed lock acquire_lock "$lock_dir" "$env_name" "deploy of $release_version" "$lock_wait"
        timed preflight check_public_port
        timed pull pull_image
        timed reconcile reconcile_environment
        timed start start_green
        timed health wait_healthy

        """;

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

    const string DeployEnd = """
        timed prune prune_releases
        say "deployed $release_version to $env_name"

        """;

    const string RollbackSteps = DeployContext + """
        timed preflight check_host_tools
        timed lock acquire_lock "$lock_dir" "$env_name" 'rollback' "$lock_wait"
        timed preflight check_public_port
        timed resolve resolve_rollback_target "$rollback_to"
        timed pull pull_image
        timed reconcile reconcile_environment
        timed start start_green
        timed health wait_healthy
        timed switch switch_traffic
        timed record record_release rollback
        timed drain drain_previous

        """;

    const string SwitchBackSteps = DeployContext + """
        timed preflight check_host_tools
        timed lock acquire_lock "$lock_dir" "$env_name" 'switch-back' "$lock_wait"
        timed preflight check_public_port
        timed resolve resolve_switch_back "$switch_back_from"
        timed pull pull_image
        timed reconcile reconcile_environment
        timed start start_green
        timed health wait_healthy
        timed switch switch_traffic
        timed record record_release rollback 'switch-back of a stopped deploy'
        timed drain drain_previous

        """;

    const string RollbackEnd = """
        timed prune prune_releases
        say "rolled $env_name back to $release_version"

        """;

    /// <summary>--end-maintenance: once the release serves (and passed its bake), maintenance mode goes off.</summary>
    const string MaintenanceEnd = """
        timed maintenance end_maintenance

        """;

    static string[] WithMaintenanceEnd(string[] files, DeployOptions options) => options.EndMaintenance ? [.. files, "maintenance-mode.sh"] : files;

    static void Check(HostSettings host, DeployEnvironment env)
    {
        host.Validate();
        env.Validate();
    }

    internal static long LockWaitSeconds(DeployOptions options) => (long)Math.Ceiling(Math.Max(0, options.LockWait.TotalSeconds));
}
