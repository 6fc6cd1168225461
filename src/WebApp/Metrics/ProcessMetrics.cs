using System.Diagnostics;

namespace WebApp.Metrics;

/// <summary>Process and runtime figures, read at scrape time, plus the constant <c>app_info</c> series.</summary>
public static class ProcessMetrics
{
    public static void Register(MetricRegistry registry, AppInfo appInfo)
    {
        var cpu = registry.AddCounter("process_cpu_seconds_total", "Total user and system CPU time spent, in seconds.");
        var resident = registry.AddGauge("process_resident_memory_bytes", "Resident memory size, in bytes.");
        var startTime = registry.AddGauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.");
        var gcCollections = registry.AddCounter("dotnet_gc_collections_total",
            "Garbage collections since the process started, by generation.", "generation");
        var info = registry.AddGauge("app_info", "Version, commit and environment of the running app; the value is always 1.",
            "version", "commit", "environment");

        startTime.Set(appInfo.StartedAt.ToUnixTimeMilliseconds() / 1000.0);
        info.WithLabels(appInfo.Version, appInfo.Commit, appInfo.Environment).Set(1);

        var generations = Enumerable.Range(0, GC.MaxGeneration + 1)
            .Select(g => (Generation: g, Series: gcCollections.WithLabels(g.ToString(System.Globalization.CultureInfo.InvariantCulture))))
            .ToArray();

        registry.BeforeScrape(() =>
        {
            cpu.WithLabels().IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
            resident.Set(Environment.WorkingSet);
            foreach (var (generation, series) in generations)
                series.IncTo(GC.CollectionCount(generation));
        });
    }

    public static DateTimeOffset CurrentProcessStartTime()
    {
        using var process = Process.GetCurrentProcess();
        return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }
}
