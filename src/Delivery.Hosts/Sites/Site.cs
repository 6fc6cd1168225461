using Delivery.Core;

namespace Delivery.Hosts.Sites;

/// <summary>
/// Where an environment runs: this machine (<see cref="ThisMachine"/>) or a fleet of EC2 instances through SSM
/// (Delivery.Aws). One machine is a fleet of one: every operation (<see cref="Deployer"/>) is written once against
/// this class and never asks which kind of site it has.
/// </summary>
public abstract class Site
{
    /// <summary>Shown in messages: "this machine", "tag:Role=webapp", "i-0abc…,i-0def…".</summary>
    public abstract string Name { get; }

    /// <summary>Which hosts the site reaches: equal for two sites of the same hosts (two environments on one machine, or
    /// on one fleet through one endpoint), so an operation on every site's hosts runs once per host.</summary>
    public virtual string Reaches => Name;

    /// <summary>What a confirmation question names, e.g. "this machine" or "3 instances (tag:Role=webapp)".</summary>
    public abstract Task<string> DescribeHostsAsync(CancellationToken cancellationToken = default);

    /// <summary>How scripts address state on the site's hosts (a fleet's hosts read their own host configuration).</summary>
    public abstract HostSettings ScriptSettings(HostSettings settings);

    /// <summary>Where the environment's release record is kept besides each host's own history.</summary>
    public abstract ReleaseLedger Ledger(HostSettings settings);

    /// <summary>Runs a script on each host with the site's rolling rules: a failure stops the roll; hosts the roll never
    /// reached come back with <see cref="HostRun.Reached"/> false. <paramref name="live"/> gets progress as it comes.
    /// </summary>
    public abstract Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, Action<string>? live, CancellationToken cancellationToken);

    /// <summary><see cref="RollAsync(string, string, string, Action{string}?, CancellationToken)"/> for a script whose own
    /// waits add up to at most <paramref name="fit"/>'s script time on one host: a fleet sizes its command's lifetimes
    /// from it and the host count (<see cref="SizesLifetimes"/>), or sends those <see cref="CheckRollFitsAsync"/> sized.</summary>
    public virtual Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, RollFit fit, Action<string>? live, CancellationToken cancellationToken) =>
        RollAsync(script, what, nothingDone, live, cancellationToken);

    /// <summary>Refuses, before anything is sent, a roll of a script needing <paramref name="scriptTime"/> per host that
    /// cannot fit the site's limits (a fleet's sized lifetimes); the pull check and release phase come after it. What it
    /// found goes on to <see cref="RollAsync(string, string, string, RollFit, Action{string}?, CancellationToken)"/>.</summary>
    public virtual Task<RollFit> CheckRollFitsAsync(ScriptTime scriptTime, CancellationToken cancellationToken) => Task.FromResult(new RollFit(scriptTime));

    /// <summary>Runs a read-only script on every host at once and returns every host's result.</summary>
    public abstract Task<IReadOnlyList<HostRun>> QueryAsync(string script, string what, CancellationToken cancellationToken);

    /// <summary>The same, for the step an operation begins with: <paramref name="nothingDone"/> ends the message when the
    /// site has no host to run it on (e.g. "nothing was deployed to staging").</summary>
    public virtual Task<IReadOnlyList<HostRun>> QueryAsync(string script, string what, string nothingDone, CancellationToken cancellationToken) =>
        QueryAsync(script, what, cancellationToken);

    /// <summary>Runs a script on the named hosts one at a time, every one attempted whatever the others did (switching back).</summary>
    public abstract Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken);

    /// <summary>The same, for a script whose own waits are <paramref name="scriptTime"/> (the release phase's command
    /// timeout): a site that stops scripts (SSM's executionTimeout) gives it that long, when it sizes lifetimes.</summary>
    public virtual Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, ScriptTime scriptTime, Action<string>? live, CancellationToken cancellationToken) =>
        RunEachAsync(hosts, script, what, live, cancellationToken);

    /// <summary>Runs a script on the named hosts all at once (undoing a cancelled roll against a deadline). When
    /// <paramref name="cancellationToken"/> fires first, the hosts still running are left to finish on their own and
    /// the site throws <see cref="RollCancelledException"/> with them as reached but not succeeded.</summary>
    public virtual Task<IReadOnlyList<HostRun>> RunAllAtOnceAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken) =>
        RunEachAsync(hosts, script, what, live, cancellationToken);

    /// <summary>The host a once-per-deploy step (the release phase) runs on: the first that answers
    /// <paramref name="query"/>, a read-only script.</summary>
    public virtual async Task<string> FirstHostAsync(string query, string what, CancellationToken cancellationToken) =>
        (await QueryAsync(query, what, cancellationToken)).FirstOrDefault(r => r.Succeeded)?.Host
        ?? throw new DeliveryException($"{what}: no host of {Name} answered (nothing was changed)");

    /// <summary>Hands <paramref name="credential"/> to the site's hosts for their pulls, and says where they read it:
    /// a fleet stores it as a SecureString its instances read with their role. Null (the default) when the hosts pull
    /// with their own docker config, as this machine does after ConfigureHost logged its docker in.</summary>
    public virtual Task<RegistryAccess?> RegistryAccessAsync(DeployEnvironment environment, RegistryCredential credential, CancellationToken cancellationToken) =>
        Task.FromResult<RegistryAccess?>(null);

    /// <summary>Whether a deploy should configure the site first, unasked: true when this machine lacks its host tools;
    /// a fleet is configured only when ConfigureHost is asked for (its deploys say so when a tool is missing).</summary>
    public virtual bool NeedsConfiguring(HostSettings settings) => false;

    /// <summary>True when the site's hosts pull with the build's own docker and its config (this machine), so a
    /// registry login of the build's docker serves them.</summary>
    public virtual bool SharesTheBuildsDocker => false;

    /// <summary>The longest a script may run on one host, when the transport stops it (SSM's execution timeout), and the
    /// parameter that sets it.</summary>
    public virtual (TimeSpan Limit, string Parameter)? ScriptTimeLimit => null;

    /// <summary>True when a roll given its <see cref="ScriptTime"/> gets lifetimes that fit it (an SSM fleet), so
    /// <see cref="ScriptTimeLimit"/> does not bound deploys and rollbacks.</summary>
    public virtual bool SizesLifetimes => false;
}

/// <summary>One host's part of an operation.</summary>
/// <param name="Skipped">Left out on purpose before anything was sent (an offline instance with --skip-offline):
/// neither a failure nor "not reached", but named in the table and the record.</param>
/// <param name="Unfinished">Still running (or about to) when the caller stopped waiting for it: its outcome is not known.</param>
public sealed record HostRun(string Host, HostResult Result, bool Reached, string Reason, bool Skipped = false, bool Unfinished = false)
{
    public bool Succeeded => Reached && Result.Succeeded;
    public HostOutput Output => new(Result);
}

/// <summary>The longest one host's script waits: its steps (health gate, bake, drain, stop) and another run's lock.</summary>
public sealed record ScriptTime(TimeSpan Steps, TimeSpan LockWait)
{
    public TimeSpan Total => Steps + LockWait;
}

/// <summary>A roll's per-host time, and what the site made of it when it checked the roll fits (a fleet: the lifetimes
/// it sized, so the roll sends what was checked, computed once).</summary>
public record RollFit(ScriptTime ScriptTime);

/// <summary>A roll stopped by the caller (Ctrl-C, or the runner's SIGINT/SIGTERM): the site cancelled what it had
/// sent, or left it running (<see cref="Site.RunAllAtOnceAsync"/>), and says where each host had got to. A host that
/// was running then is reached but not succeeded: the agent killed it at any line, or it still runs.</summary>
public sealed class RollCancelledException(IReadOnlyList<HostRun> runs, string where) : OperationCanceledException($"cancelled ({where})")
{
    public IReadOnlyList<HostRun> Runs { get; } = runs;

    /// <summary>Where the operation ran, e.g. "SSM command 1234…", named in the lines the build prints.</summary>
    public string Where { get; } = where;
}

/// <summary>What an environment was last given, kept beside the hosts' own history: on a fleet, Parameter Store.</summary>
public abstract class ReleaseLedger
{
    /// <summary>The words that say nothing is recorded, e.g. "No staging release record in Parameter Store (/webapp/staging/release)".</summary>
    public abstract string NothingRecorded(DeployEnvironment environment);

    public abstract Task<RecordedRelease?> GetAsync(DeployEnvironment environment, CancellationToken cancellationToken = default);

    /// <summary>Records what every host now serves; returns a line for the log, or null when there is nothing to say.</summary>
    public abstract Task<string?> RecordAsync(DeployEnvironment environment, RecordedRelease release, CancellationToken cancellationToken = default);

    /// <summary>Removes the record (teardown); returns a line for the log, or null.</summary>
    public abstract Task<string?> RemoveAsync(DeployEnvironment environment, CancellationToken cancellationToken = default);
}

/// <summary>A release as the ledger records it: what, by whom, when, on which hosts, and the record's own version.</summary>
public sealed record RecordedRelease(PinnedImage Image, string DeployedBy, string Time, IReadOnlyList<string> Hosts, long Version = 0, string? Where = null,
    string? Unattested = null, IReadOnlyList<string>? Skipped = null);

/// <summary>This machine: one host, the local bash. Its ledger is the host's own history.</summary>
public sealed class ThisMachine(IDeployHost host) : Site
{
    public IDeployHost Host => host;

    public override string Name => host.Name == "local" ? "this machine" : host.Name;

    public override Task<string> DescribeHostsAsync(CancellationToken cancellationToken = default) => Task.FromResult($"the {host.Name} host");

    public override HostSettings ScriptSettings(HostSettings settings) => settings;

    public override ReleaseLedger Ledger(HostSettings settings) => new HostHistoryLedger(host, settings);

    public override async Task<IReadOnlyList<HostRun>> RollAsync(string script, string what, string nothingDone, Action<string>? live, CancellationToken cancellationToken) =>
        [Run(await host.RunAsync(script, live, cancellationToken))];

    public override async Task<IReadOnlyList<HostRun>> QueryAsync(string script, string what, CancellationToken cancellationToken) =>
        [Run(await host.RunAsync(script, null, cancellationToken))];

    public override async Task<IReadOnlyList<HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken) =>
        hosts.Contains(host.Name) ? [Run(await host.RunAsync(script, live, cancellationToken))] : [];

    public override bool NeedsConfiguring(HostSettings settings) =>
        new[] { settings.Haproxy, settings.Socat, settings.Curl }.Any(tool => !OnPath(tool));

    public override bool SharesTheBuildsDocker => host is LocalHost;

    static bool OnPath(string program) => Path.IsPathRooted(program)
        ? File.Exists(program)
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, program)));

    HostRun Run(HostResult result) => new(host.Name, result, true,
        result.Succeeded ? "ok" : result.Error ?? $"exit code {result.ExitCode}: {result.Tail()}");

    /// <summary>The host keeps its history and current release itself: the record is what the host says it serves.</summary>
    sealed class HostHistoryLedger(IDeployHost host, HostSettings settings) : ReleaseLedger
    {
        public override string NothingRecorded(DeployEnvironment environment) =>
            $"{Naming(environment)} runs nothing on the {host.Name} host";

        public override async Task<RecordedRelease?> GetAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
        {
            var result = await host.RunAsync(Scripts.HostScripts.Status(settings, environment), null, cancellationToken);
            if (!result.Succeeded)
                throw new DeliveryException($"Status of {environment.Name} failed on {host.Name}: {result.Error ?? result.Tail()}");
            var status = new HostOutput(result).Status(environment);
            if (!status.Deployed || status.Digest is null || status.Image is null) return null;
            var release = new PinnedImage(status.Version ?? "unknown", status.Image.Split('@')[0], status.Digest, status.Commit);
            return new RecordedRelease(release, "", status.Since ?? "", [host.Name]);
        }

        public override Task<string?> RecordAsync(DeployEnvironment environment, RecordedRelease release, CancellationToken cancellationToken = default) =>
            Task.FromResult<string?>(null);

        public override Task<string?> RemoveAsync(DeployEnvironment environment, CancellationToken cancellationToken = default) =>
            Task.FromResult<string?>(null);

        static string Naming(DeployEnvironment environment) =>
            char.ToUpperInvariant(environment.Name[0]) + environment.Name[1..];
    }
}
