using System.Globalization;
using Delivery.Core;

namespace Delivery.Aws;

/// <summary>
/// How long one SSM command to a fleet may live, sized to the fleet. SSM expires a command at send time +
/// TimeoutSeconds + executionTimeout, and then every invocation still Pending or InProgress becomes Delivery Timed
/// Out (AWS, "Understanding command timeout values"); an instance that has not started by TimeoutSeconds never runs.
/// With MaxConcurrency C, N instances go in ⌈N / C⌉ waves, each taking up to the per-instance budget B, so:
/// executionTimeout = B; TimeoutSeconds = (waves − 1) × B + <see cref="DeliverySlackSeconds"/> (the last wave must
/// start before it); the build waits the command's whole life plus <see cref="ResultMarginSeconds"/>.
/// <para>A lock wait W (another run's lock on the hosts) goes into every instance's executionTimeout (B + W: any
/// instance may be the one that waits) but only once into TimeoutSeconds: deploy jobs of one environment are already
/// serialized by the workflow's concurrency group, so the wait is the rare local run's, not one per wave.</para>
/// </summary>
public sealed record FleetLifetimes
{
    /// <summary>The agent runs an executionTimeout outside 5..172800 s with its default of 3600 s (pluginutil.ValidateExecutionTimeout).</summary>
    public const int MinExecutionTimeoutSeconds = 5;
    public const int MaxExecutionTimeoutSeconds = 172_800;

    /// <summary>SendCommand's TimeoutSeconds: 30 to 2592000.</summary>
    public const int MinDeliveryTimeoutSeconds = 30;
    public const int MaxDeliveryTimeoutSeconds = 2_592_000;

    /// <summary>Time for an online agent to take a command once SSM hands it out.</summary>
    public const int DeliverySlackSeconds = 60;

    /// <summary>How long past the command's expiry the build waits for the last results.</summary>
    public const int ResultMarginSeconds = 60;

    FleetLifetimes(int instances, int concurrency, TimeSpan perInstanceBudget, int delivery, int execution, TimeSpan lockWait)
    {
        LockWait = lockWait;
        Instances = instances;
        Concurrency = concurrency;
        PerInstanceBudget = perInstanceBudget;
        DeliveryTimeoutSeconds = delivery;
        ExecutionTimeoutSeconds = execution;
    }

    public int Instances { get; }

    /// <summary>Instances at once (MaxConcurrency resolved against the instance count).</summary>
    public int Concurrency { get; }

    public TimeSpan PerInstanceBudget { get; }

    /// <summary>Counted once in the roll, and in each instance's executionTimeout.</summary>
    public TimeSpan LockWait { get; }

    public int Waves => (Instances + Concurrency - 1) / Concurrency;

    /// <summary>SendCommand TimeoutSeconds.</summary>
    public int DeliveryTimeoutSeconds { get; }

    /// <summary>AWS-RunShellScript executionTimeout.</summary>
    public int ExecutionTimeoutSeconds { get; }

    /// <summary>SSM expires the command this long after sending it.</summary>
    public TimeSpan CommandLifetime => TimeSpan.FromSeconds(DeliveryTimeoutSeconds + (long)ExecutionTimeoutSeconds);

    /// <summary>The build cancels the command and gives up this long after sending it.</summary>
    public TimeSpan BuildDeadline => CommandLifetime + TimeSpan.FromSeconds(ResultMarginSeconds);

    /// <summary>What one instance's script needs: its health gate, its bake and a margin for pull, start and switch.</summary>
    public static TimeSpan PerInstance(TimeSpan health, TimeSpan bake, TimeSpan? margin = null) =>
        health + bake + (margin ?? TimeSpan.FromSeconds(120));

    /// <summary>MaxConcurrency as SSM reads it: a number, or a percentage of the targets (at least 1).</summary>
    public static int Concurrent(string maxConcurrency, int instances)
    {
        var text = maxConcurrency.Trim();
        if (text.EndsWith('%') && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent) && percent is >= 1 and <= 100)
            return Math.Max(1, (int)Math.Floor(instances * percent / 100.0));
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
        throw new DeliveryException($"Max concurrency '{maxConcurrency}' must be a number of instances (1, 2, …) or a percentage (25%)");
    }

    public static FleetLifetimes For(int instances, string maxConcurrency, TimeSpan perInstanceBudget, TimeSpan? mustFinishWithin = null, TimeSpan? lockWait = null) =>
        For(instances, Concurrent(maxConcurrency, Math.Max(1, instances)), perInstanceBudget, mustFinishWithin, lockWait);

    /// <summary>The lifetimes of a command to <paramref name="instances"/> instances; a one-line
    /// <see cref="DeliveryException"/> when they cannot fit SSM's limits or <paramref name="mustFinishWithin"/>.</summary>
    public static FleetLifetimes For(int instances, int maxConcurrency, TimeSpan perInstanceBudget, TimeSpan? mustFinishWithin = null, TimeSpan? lockWait = null)
    {
        var wait = (long)Math.Ceiling(Math.Max(0, (lockWait ?? TimeSpan.Zero).TotalSeconds));
        if (instances < 1) throw new DeliveryException($"A fleet needs at least one instance, not {instances}");
        if (maxConcurrency < 1) throw new DeliveryException($"Max concurrency must be at least 1, not {maxConcurrency}");
        if (perInstanceBudget <= TimeSpan.Zero) throw new DeliveryException($"The per-instance budget must be positive, not {perInstanceBudget.TotalSeconds:0} s");
        var concurrency = Math.Min(maxConcurrency, instances);
        var each = Math.Max(MinExecutionTimeoutSeconds, (long)Math.Ceiling(perInstanceBudget.TotalSeconds));
        var execution = each + wait;
        if (execution > MaxExecutionTimeoutSeconds)
            throw new DeliveryException($"One instance needs {execution} s (health + bake + drain + stop + margin{(wait > 0 ? " + lock wait" : "")}), over the agent's {MaxExecutionTimeoutSeconds} s executionTimeout limit; nothing was sent");
        long Delivery(int c) => Math.Max(MinDeliveryTimeoutSeconds, ((instances + c - 1) / c - 1) * each + wait + DeliverySlackSeconds);
        var waves = (instances + concurrency - 1) / concurrency;
        var delivery = Delivery(concurrency);
        var shape = $"{instances} instance(s), {concurrency} at a time ({waves} wave(s) of {each} s{(wait > 0 ? $", a lock wait of {wait} s once" : "")})";
        if (delivery > MaxDeliveryTimeoutSeconds)
            throw new DeliveryException($"A roll of {shape} needs TimeoutSeconds {delivery}, over SSM's {MaxDeliveryTimeoutSeconds}; raise --max-concurrency; nothing was sent");
        var lifetimes = new FleetLifetimes(instances, concurrency, perInstanceBudget, (int)delivery, (int)execution, TimeSpan.FromSeconds(wait));
        if (mustFinishWithin is { } limit && lifetimes.BuildDeadline > limit)
        {
            var fits = Enumerable.Range(concurrency, instances - concurrency + 1)
                .FirstOrDefault(c => TimeSpan.FromSeconds(Delivery(c) + execution + ResultMarginSeconds) <= limit);
            throw new DeliveryException($"A roll of {shape} may take {Minutes(lifetimes.BuildDeadline)}, over the {Minutes(limit)} it must finish within (--fleet-time-limit); " +
                                        (fits > 0 ? $"--max-concurrency {fits} fits" : "even all at once does not fit: shorten the bake or the health timeout") + "; nothing was sent");
        }
        return lifetimes;
    }

    static string Minutes(TimeSpan t) => t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min" : $"{t.TotalSeconds:0} s";

    public override string ToString() =>
        $"{Instances} instance(s), {Concurrency} at a time ({Waves} wave(s) of {ExecutionTimeoutSeconds - (int)LockWait.TotalSeconds} s{(LockWait > TimeSpan.Zero ? $", a lock wait of {LockWait.TotalSeconds:0} s once" : "")}): TimeoutSeconds {DeliveryTimeoutSeconds}, " +
        $"executionTimeout {ExecutionTimeoutSeconds}, the command expires {CommandLifetime.TotalSeconds:0} s after sending, the build waits {BuildDeadline.TotalSeconds:0} s";
}
