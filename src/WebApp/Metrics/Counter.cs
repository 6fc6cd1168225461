namespace WebApp.Metrics;

/// <summary>A value that only goes up (requests served, CPU seconds). Resets only when the process restarts.</summary>
public sealed class Counter : MetricFamily<CounterSeries>
{
    internal Counter(string name, string help, IReadOnlyList<string> labelNames)
        : base(name, help, MetricType.Counter, labelNames)
    {
        // promtool rejects counters whose name does not say they are cumulative.
        if (!name.EndsWith("_total", StringComparison.Ordinal))
            throw new ArgumentException($"Counter '{name}' must end in '_total'.", nameof(name));
    }

    public void Inc(double amount = 1) => WithLabels().Inc(amount);

    private protected override CounterSeries CreateSeries() => new();

    private protected override void WriteSeries(TextWriter writer, string[] labelValues, CounterSeries series) =>
        PrometheusText.WriteSample(writer, Name, LabelNames, labelValues, series.Value);
}

public sealed class CounterSeries
{
    private long _bits; // the double value, so that it can be updated with Interlocked

    public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));

    public void Inc(double amount = 1)
    {
        if (!(amount >= 0) || double.IsInfinity(amount))
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "A counter can only be increased by a finite, non-negative amount.");
        Update(current => current + amount);
    }

    /// <summary>
    /// Raises the counter to a cumulative total read from elsewhere (CPU time, GC count); a lower value is ignored,
    /// so the counter never goes down.
    /// </summary>
    public void IncTo(double total)
    {
        if (double.IsNaN(total) || double.IsInfinity(total))
            throw new ArgumentOutOfRangeException(nameof(total), total, "A counter total must be finite.");
        Update(current => Math.Max(current, total));
    }

    private void Update(Func<double, double> next)
    {
        while (true)
        {
            var seen = Interlocked.Read(ref _bits);
            var updated = BitConverter.DoubleToInt64Bits(next(BitConverter.Int64BitsToDouble(seen)));
            if (Interlocked.CompareExchange(ref _bits, updated, seen) == seen)
                return;
        }
    }
}
