namespace WebApp.Metrics;

/// <summary>Configuration section "Metrics" (e.g. env Metrics__Enabled=false).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// Off: no request instrumentation and no <c>/metrics</c> endpoint (404), so a bench can measure what metrics cost.
    /// </summary>
    public bool Enabled { get; set; } = true;
}
