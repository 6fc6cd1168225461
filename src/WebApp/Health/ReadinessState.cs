namespace WebApp.Health;

public enum ReadinessStage
{
    Starting,
    Ready,
    Draining,
}

/// <summary>
/// Whether this instance should receive new traffic. Ready only between "startup completed" and "shutdown began";
/// once draining it never becomes ready again, so a late startup callback cannot reopen a stopping instance.
/// </summary>
public sealed class ReadinessState
{
    private int _stage = (int)ReadinessStage.Starting;

    public ReadinessStage Stage => (ReadinessStage)Volatile.Read(ref _stage);

    public bool IsReady => Stage == ReadinessStage.Ready;

    public void MarkStarted() =>
        Interlocked.CompareExchange(ref _stage, (int)ReadinessStage.Ready, (int)ReadinessStage.Starting);

    public void MarkDraining() => Volatile.Write(ref _stage, (int)ReadinessStage.Draining);

    /// <summary>Follows the host: ready on ApplicationStarted, draining on ApplicationStopping.</summary>
    public void FollowLifetime(IHostApplicationLifetime lifetime)
    {
        lifetime.ApplicationStarted.Register(MarkStarted);
        lifetime.ApplicationStopping.Register(MarkDraining);
    }
}
