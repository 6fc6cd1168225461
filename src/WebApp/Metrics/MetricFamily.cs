using System.Collections.Concurrent;

namespace WebApp.Metrics;

public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One metric name with its HELP/TYPE and one series per distinct set of label values.</summary>
public abstract class MetricFamily
{
    private protected MetricFamily(string name, string help, MetricType type, IReadOnlyList<string> labelNames)
    {
        if (!PrometheusText.IsValidMetricName(name))
            throw new ArgumentException($"'{name}' is not a valid Prometheus metric name.", nameof(name));
        if (string.IsNullOrWhiteSpace(help))
            throw new ArgumentException($"Metric '{name}' needs HELP text.", nameof(help));
        foreach (var label in labelNames)
        {
            if (!PrometheusText.IsValidLabelName(label))
                throw new ArgumentException($"'{label}' is not a valid label name for metric '{name}'.", nameof(labelNames));
        }
        if (labelNames.Distinct(StringComparer.Ordinal).Count() != labelNames.Count)
            throw new ArgumentException($"Metric '{name}' repeats a label name.", nameof(labelNames));

        Name = name;
        Help = help;
        Type = type;
        LabelNames = labelNames.ToArray();
    }

    public string Name { get; }
    public string Help { get; }
    public MetricType Type { get; }
    public IReadOnlyList<string> LabelNames { get; }

    internal void Write(TextWriter writer)
    {
        writer.Write("# HELP ");
        writer.Write(Name);
        writer.Write(' ');
        writer.Write(PrometheusText.EscapeHelp(Help));
        writer.Write('\n');
        writer.Write("# TYPE ");
        writer.Write(Name);
        writer.Write(' ');
        writer.Write(Type switch
        {
            MetricType.Counter => "counter",
            MetricType.Gauge => "gauge",
            _ => "histogram",
        });
        writer.Write('\n');
        WriteSeries(writer);
    }

    private protected abstract void WriteSeries(TextWriter writer);
}

/// <summary>A family whose series are created on first use of a label-value combination.</summary>
public abstract class MetricFamily<TSeries> : MetricFamily where TSeries : class
{
    private readonly ConcurrentDictionary<string[], TSeries> _series = new(LabelValuesComparer.Instance);

    private protected MetricFamily(string name, string help, MetricType type, IReadOnlyList<string> labelNames)
        : base(name, help, type, labelNames)
    {
    }

    /// <summary>The series for these label values, in the order of the family's label names.</summary>
    public TSeries WithLabels(params string[] labelValues)
    {
        if (labelValues.Length != LabelNames.Count)
            throw new ArgumentException(
                $"Metric '{Name}' has {LabelNames.Count} label(s) ({string.Join(", ", LabelNames)}) but {labelValues.Length} value(s) were given.",
                nameof(labelValues));
        if (_series.TryGetValue(labelValues, out var existing))
            return existing;
        foreach (var value in labelValues)
            ArgumentNullException.ThrowIfNull(value, nameof(labelValues));
        return _series.GetOrAdd((string[])labelValues.Clone(), _ => CreateSeries());
    }

    public int SeriesCount => _series.Count;

    private protected abstract TSeries CreateSeries();

    private protected abstract void WriteSeries(TextWriter writer, string[] labelValues, TSeries series);

    private protected override void WriteSeries(TextWriter writer)
    {
        // An unlabelled metric always has its single series, so it is exposed (as 0) before first use.
        if (LabelNames.Count == 0)
            WithLabels();
        // Sorted so consecutive scrapes list series in the same order.
        foreach (var (labelValues, series) in _series.ToArray().OrderBy(kv => kv.Key, LabelValuesComparer.Instance))
            WriteSeries(writer, labelValues, series);
    }

    private sealed class LabelValuesComparer : IEqualityComparer<string[]>, IComparer<string[]>
    {
        public static readonly LabelValuesComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(string[] values)
        {
            var hash = new HashCode();
            foreach (var value in values)
                hash.Add(value, StringComparer.Ordinal);
            return hash.ToHashCode();
        }

        public int Compare(string[]? x, string[]? y)
        {
            for (var i = 0; i < Math.Min(x!.Length, y!.Length); i++)
            {
                var c = string.CompareOrdinal(x[i], y[i]);
                if (c != 0)
                    return c;
            }
            return x.Length.CompareTo(y.Length);
        }
    }
}
