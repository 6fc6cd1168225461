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

    public string DeployedByOrDefault()
    {
        var who = DeployedBy ?? DefaultDeployer();
        if (!DeployerPattern().IsMatch(who))
            throw new DeliveryException($"Deployer name '{who}' may contain only letters, digits, '.', '_', '@', '+' and '-'.");
        return who;
    }

    public static string DefaultDeployer()
    {
        var raw = $"{Environment.UserName}@{Environment.MachineName}";
        return Regex.Replace(raw, "[^A-Za-z0-9._@+-]", "-");
    }

    [GeneratedRegex("^[A-Za-z0-9._@+-]{1,100}$")] private static partial Regex DeployerPattern();
}
