namespace WebApp.Metrics;

/// <summary>
/// Observations counted into cumulative buckets (<c>_bucket{le=...}</c>) plus <c>_sum</c> and <c>_count</c>.
/// The +Inf bucket is always present and always equals <c>_count</c>.
/// </summary>
public sealed class Histogram : MetricFamily<HistogramSeries>
{
    /// <summary>Latency buckets in seconds, from 5 ms to 10 s (the usual Prometheus client defaults).</summary>
    public static readonly IReadOnlyList<double> DefaultDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly double[] _upperBounds;
    private readonly string[] _upperBoundLabels;

    internal Histogram(string name, string help, IReadOnlyList<double> upperBounds, IReadOnlyList<string> labelNames)
        : base(name, help, MetricType.Histogram, labelNames)
    {
        if (labelNames.Contains("le"))
            throw new ArgumentException($"Histogram '{name}' cannot use the label name 'le'; it names the buckets.", nameof(labelNames));
        var bounds = upperBounds.Where(b => !double.IsPositiveInfinity(b)).ToArray();
        if (bounds.Length == 0)
            throw new ArgumentException($"Histogram '{name}' needs at least one finite bucket.", nameof(upperBounds));
        for (var i = 0; i < bounds.Length; i++)
        {
            if (double.IsNaN(bounds[i]) || double.IsNegativeInfinity(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                throw new ArgumentException($"Histogram '{name}' buckets must be finite and strictly increasing.", nameof(upperBounds));
        }
        _upperBounds = [.. bounds, double.PositiveInfinity];
        _upperBoundLabels = _upperBounds.Select(PrometheusText.FormatValue).ToArray();
    }

    public IReadOnlyList<double> UpperBounds => _upperBounds;

    public void Observe(double value) => WithLabels().Observe(value);

    private protected override HistogramSeries CreateSeries() => new(_upperBounds);

    private protected override void WriteSeries(TextWriter writer, string[] labelValues, HistogramSeries series)
    {
        var snapshot = series.Snapshot();
        long cumulative = 0;
        for (var i = 0; i < _upperBounds.Length; i++)
        {
            cumulative += snapshot.BucketCounts[i];
            PrometheusText.WriteSample(writer, Name + "_bucket", LabelNames, labelValues, cumulative, "le", _upperBoundLabels[i]);
        }
        PrometheusText.WriteSample(writer, Name + "_sum", LabelNames, labelValues, snapshot.Sum);
        PrometheusText.WriteSample(writer, Name + "_count", LabelNames, labelValues, snapshot.Count);
    }
}

public sealed class HistogramSeries
{
    private readonly double[] _upperBounds;
    private readonly long[] _bucketCounts; // per bucket, not cumulative
    private readonly Lock _lock = new();
    private double _sum;
    private long _count;

    internal HistogramSeries(double[] upperBounds)
    {
        _upperBounds = upperBounds;
        _bucketCounts = new long[upperBounds.Length];
    }

    public void Observe(double value)
    {
        if (double.IsNaN(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "A histogram cannot observe NaN.");
        // le is inclusive: a value equal to a bound lands in that bucket.
        var bucket = Array.BinarySearch(_upperBounds, value);
        if (bucket < 0)
            bucket = ~bucket;
        // One lock per series keeps buckets, sum and count consistent with each other in every scrape.
        lock (_lock)
        {
            _bucketCounts[bucket]++;
            _sum += value;
            _count++;
        }
    }

    public HistogramSnapshot Snapshot()
    {
        lock (_lock)
            return new HistogramSnapshot((long[])_bucketCounts.Clone(), _sum, _count);
    }
}

public sealed record HistogramSnapshot(IReadOnlyList<long> BucketCounts, double Sum, long Count);
