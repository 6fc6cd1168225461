namespace WebApp.Health;

/// <summary>Configuration section "Shutdown" (e.g. env Shutdown__Timeout=00:00:45).</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>How long SIGTERM waits for in-flight requests before the host gives up on them.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long to keep accepting requests (answering /readyz with 503) after shutdown begins, so a load balancer
    /// that polls readiness can take the instance out before its listener closes. Zero when the deploy switches the
    /// proxy away before stopping the container.
    /// </summary>
    public TimeSpan ReadinessDrainDelay { get; set; } = TimeSpan.Zero;
}

/// <summary>
/// Marks the instance as draining as the first step of stopping, even when the host is stopped directly rather
/// than through ApplicationStopping, then holds shutdown for <see cref="ShutdownOptions.ReadinessDrainDelay"/>
/// before Kestrel closes its listener.
/// </summary>
internal sealed class ReadinessShutdown(ReadinessState readiness, Microsoft.Extensions.Options.IOptions<ShutdownOptions> options)
    : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        readiness.MarkDraining();
        var delay = options.Value.ReadinessDrainDelay;
        if (delay <= TimeSpan.Zero)
            return;
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shutdown timeout ran out first; stop anyway.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
