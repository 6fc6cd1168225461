namespace WebApp.Metrics;

/// <summary>A value that goes up and down (requests in progress, resident memory).</summary>
public sealed class Gauge : MetricFamily<GaugeSeries>
{
    internal Gauge(string name, string help, IReadOnlyList<string> labelNames)
        : base(name, help, MetricType.Gauge, labelNames)
    {
    }

    public void Set(double value) => WithLabels().Set(value);
    public void Inc(double amount = 1) => WithLabels().Inc(amount);
    public void Dec(double amount = 1) => WithLabels().Inc(-amount);

    private protected override GaugeSeries CreateSeries() => new();

    private protected override void WriteSeries(TextWriter writer, string[] labelValues, GaugeSeries series) =>
        PrometheusText.WriteSample(writer, Name, LabelNames, labelValues, series.Value);
}

public sealed class GaugeSeries
{
    private long _bits;

    public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));

    public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));

    public void Inc(double amount = 1)
    {
        while (true)
        {
            var seen = Interlocked.Read(ref _bits);
            var updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + amount);
            if (Interlocked.CompareExchange(ref _bits, updated, seen) == seen)
                return;
        }
    }

    public void Dec(double amount = 1) => Inc(-amount);
}
