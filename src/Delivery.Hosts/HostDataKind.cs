namespace Delivery.Hosts;

/// <summary>
/// The kinds of machine-readable line a host script emits (<c>webapp-deploy: data: {"kind":"…",…}</c>). The scripts
/// write the wire name (the member's name in lower case); the one reader of host output parses it back. A test checks
/// that the scripts emit exactly these kinds, so a kind renamed on one side fails.
/// </summary>
public enum HostDataKind
{
    /// <summary>What an environment serves now (status).</summary>
    Current,
    /// <summary>A release still on the host that a rollback can return to.</summary>
    Retained,
    /// <summary>Who holds the environment's deploy lock.</summary>
    Lock,
    /// <summary>One line of the environment's release history.</summary>
    History,
    /// <summary>The bake's verdict.</summary>
    Bake,
    /// <summary>Traffic moved; names the release that served before.</summary>
    Switched,
    /// <summary>The release record a deploy or rollback wrote.</summary>
    Release,
    /// <summary>How long one step took.</summary>
    Timing,
    /// <summary>A step failed for a reason the caller acts on: <c>"reason"</c> is a code (<c>pull</c>: the image could
    /// not be pulled; nothing was changed), the error line that follows says it in words.</summary>
    Failure,
    /// <summary>Whether an environment is in maintenance mode, since when and with which message.</summary>
    Maintenance,
    /// <summary>The release phase's exit code, duration and whether it timed out.</summary>
    ReleasePhase,
    /// <summary>Whether a retained rollback target still works: ok, missing, unpullable or unhealthy, with the reason.</summary>
    RollbackCheck,
    /// <summary>One ConfigureHost playbook run: its number, how many tasks it changed, how long it took, the host's system.</summary>
    Configured,
}

public static class HostDataKinds
{
    public static string WireName(this HostDataKind kind) => kind.ToString().ToLowerInvariant();

    public static HostDataKind? Parse(string? wire) =>
        Enum.GetValues<HostDataKind>().Select(k => (HostDataKind?)k).FirstOrDefault(k => k!.Value.WireName() == wire);
}
