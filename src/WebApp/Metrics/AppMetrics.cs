using Prometheus;

namespace WebApp.Metrics;

/// <summary>
/// The app's prometheus-net registry and what it holds: HTTP request count, duration and concurrency (recorded by
/// <see cref="RequestMetrics"/>), process and GC figures, and <c>app_info</c>. One registry per app instance, not
/// prometheus-net's static default: tests start several apps in one process, and the default registry is where the
/// EventCounter and Meter adapters export series (<c>system_runtime_*</c>) that fail <c>promtool check metrics</c>.
/// Create app metrics from <see cref="Factory"/>, not from the static <c>Prometheus.Metrics</c> class, or
/// <c>/metrics</c> will not show them.
/// </summary>
public sealed class AppMetrics
{
    /// <summary>Seconds; the buckets the app had before prometheus-net, so quantiles stay comparable across the change.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    static AppMetrics() =>
        // Nothing serves the default registry; this keeps its adapters from ever listening to every EventSource and Meter.
        Prometheus.Metrics.SuppressDefaultMetrics();

    public AppMetrics(AppInfo info)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        // Exemplars exist only in OpenMetrics scrapes; looking for a trace on every observation is not worth it here.
        Factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();

        // process_cpu_seconds_total, process_start_time_seconds, process_*_bytes, process_open_handles,
        // process_num_threads, dotnet_collection_count_total{generation}, dotnet_total_memory_bytes.
        DotNetStats.Register(Registry);
        var resident = Factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        Registry.AddBeforeCollectCallback(() => resident.Set(Environment.WorkingSet));

        Factory.CreateGauge("app_info", "Version, commit and environment of the running app; the value is always 1.",
                ["version", "commit", "environment"])
            .WithLabels(info.Version, info.Commit, info.Environment)
            .Set(1);

        RequestsReceived = Factory.CreateCounter("http_requests_received_total",
            "HTTP requests completed, by method, route template and status code.",
            ["method", RouteLabel.Name, "code"]);
        RequestDuration = Factory.CreateHistogram("http_request_duration_seconds",
            "Time from the request reaching the app to the response being complete, in seconds.",
            new HistogramConfiguration
            {
                LabelNames = ["method", RouteLabel.Name],
                Buckets = DurationBuckets,
            });
        RequestsInProgress = Factory.CreateGauge("http_requests_in_progress", "HTTP requests currently being handled.");
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    public Counter RequestsReceived { get; }

    public Histogram RequestDuration { get; }

    public Gauge RequestsInProgress { get; }
}
