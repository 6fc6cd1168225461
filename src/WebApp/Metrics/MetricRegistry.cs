using System.Text;

namespace WebApp.Metrics;

/// <summary>
/// The metric families this process exposes on <c>/metrics</c>, written in registration order in the
/// Prometheus text format 0.0.4.
/// </summary>
public sealed class MetricRegistry
{
    private readonly Lock _lock = new();
    private readonly List<MetricFamily> _families = [];
    private readonly List<Action> _beforeScrape = [];

    public Counter AddCounter(string name, string help, params string[] labelNames) => Add(new Counter(name, help, labelNames));

    public Gauge AddGauge(string name, string help, params string[] labelNames) => Add(new Gauge(name, help, labelNames));

    public Histogram AddHistogram(string name, string help, IReadOnlyList<double> upperBounds, params string[] labelNames) =>
        Add(new Histogram(name, help, upperBounds, labelNames));

    /// <summary>Runs before every scrape, for values read on demand (process CPU time, GC counts).</summary>
    public void BeforeScrape(Action refresh)
    {
        lock (_lock)
            _beforeScrape.Add(refresh);
    }

    public IReadOnlyList<MetricFamily> Families
    {
        get
        {
            lock (_lock)
                return _families.ToArray();
        }
    }

    public void WriteTo(TextWriter writer)
    {
        Action[] refreshers;
        MetricFamily[] families;
        lock (_lock)
        {
            refreshers = _beforeScrape.ToArray();
            families = _families.ToArray();
        }
        foreach (var refresh in refreshers)
            refresh();
        foreach (var family in families)
            family.Write(writer);
    }

    public string Scrape()
    {
        var writer = new StringWriter(new StringBuilder(4096), System.Globalization.CultureInfo.InvariantCulture) { NewLine = "\n" };
        WriteTo(writer);
        return writer.ToString();
    }

    private T Add<T>(T family) where T : MetricFamily
    {
        var suffixes = family.Type == MetricType.Histogram ? new[] { "_bucket", "_sum", "_count", "" } : [""];
        lock (_lock)
        {
            // A histogram also owns name_bucket/_sum/_count; no other family may expose a sample with those names.
            var taken = _families.SelectMany(f => f.Type == MetricType.Histogram
                    ? new[] { f.Name, f.Name + "_bucket", f.Name + "_sum", f.Name + "_count" }
                    : [f.Name])
                .ToHashSet(StringComparer.Ordinal);
            foreach (var suffix in suffixes)
            {
                if (taken.Contains(family.Name + suffix))
                    throw new InvalidOperationException($"A metric named '{family.Name + suffix}' is already registered.");
            }
            _families.Add(family);
        }
        return family;
    }
}
