using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts;

public sealed partial record DeployOptions
{
    /// <summary>How long to wait for another run's lock on the environment; zero fails at once, naming the holder.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.Zero;
    /// <summary>Who deploys (recorded in the lock and the history); defaults to user@machine.</summary>
    public string? DeployedBy { get; init; }
    /// <summary>Watching the new release after the switch; off unless set (the build picks per-environment defaults).</summary>
    public Bake.BakeSettings Bake { get; init; } = Delivery.Hosts.Bake.BakeSettings.Off;
    /// <summary>Why the release's digest has no valid provenance, when it is deployed anyway (--allow-unattested); the
    /// release record notes it. Null for an attested release.</summary>
    public string? Unattested { get; init; }
    /// <summary>A command run once in the new image before any switch; none unless set.</summary>
    public ReleasePhaseSettings? ReleasePhase { get; init; }
    /// <summary>A deploy or rollback turns maintenance mode off once its release serves; otherwise maintenance stays on.</summary>
    public bool EndMaintenance { get; init; }
    /// <summary>A login for the release's registry that the site hands to its hosts before they pull (a fleet stores it
    /// as a SecureString its instances read); null when the hosts pull with their own docker config.</summary>
    public RegistryCredential? RegistryCredential { get; init; }
    /// <summary>Where the hosts read that login (set by the deployer from its site); rendered as names only.</summary>
    public RegistryAccess? RegistryAccess { get; init; }

    /// <summary>How long the build has after the first SIGINT/SIGTERM: GitHub's runner sends SIGTERM 7.5 s after its
    /// SIGINT (actions/runner ProcessInvoker), then SIGKILL. A cancelled deploy's switch-back must end within it.</summary>
    public TimeSpan SignalGrace { get; init; } = TimeSpan.FromSeconds(7.5);

    /// <summary>The part of <see cref="SignalGrace"/> kept for printing the lines and the table and exiting: over a second
    /// on a busy 2-core machine.</summary>
    public TimeSpan ExitReserve { get; init; } = TimeSpan.FromSeconds(2.5);

    public string DeployedByOrDefault()
    {
        var who = DeployedBy ?? DefaultDeployer();
        if (!DeployerPattern().IsMatch(who))
            throw new DeliveryException($"Deployer name '{who}' may contain only letters, digits, '.', '_', '@', '+', ':', '/' and '-'.");
        return who;
    }

    /// <summary>user@machine; on GitHub Actions the actor who started the run and the run's URL
    /// (<c>octocat@https://github.com/o/r/actions/runs/42</c>), since the runner's user and VM name say nothing.</summary>
    public static string DefaultDeployer() => DefaultDeployer(Environment.GetEnvironmentVariable);

    public static string DefaultDeployer(Func<string, string?> variable)
    {
        if (variable("GITHUB_ACTIONS") == "true" && variable("GITHUB_ACTOR") is { Length: > 0 } actor
            && variable("GITHUB_SERVER_URL") is { Length: > 0 } server && variable("GITHUB_REPOSITORY") is { Length: > 0 } repository
            && variable("GITHUB_RUN_ID") is { Length: > 0 } run)
            return Regex.Replace($"{actor}@{server.TrimEnd('/')}/{repository}/actions/runs/{run}", "[^A-Za-z0-9._@+:/-]", "-");
        var raw = $"{Environment.UserName}@{Environment.MachineName}";
        return Regex.Replace(raw, "[^A-Za-z0-9._@+-]", "-");
    }

    [GeneratedRegex("^[A-Za-z0-9._@+:/-]{1,200}$")] private static partial Regex DeployerPattern();
}
