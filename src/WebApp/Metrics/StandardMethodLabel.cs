using System.Collections.Frozen;
using Prometheus;
using Prometheus.HttpMetrics;

namespace WebApp.Metrics;

/// <summary>
/// prometheus-net labels requests with the raw method, and a client can send any method token. This wrapper turns
/// every non-standard method into <c>OTHER</c>, so odd methods cannot add series.
/// </summary>
public sealed class StandardMethodLabel<TChild>(ICollector<TChild> inner) : ICollector<TChild>
    where TChild : ICollectorChild
{
    public const string Other = "OTHER";

    private static readonly FrozenDictionary<string, string> Standard = new[]
    {
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch,
        HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect,
    }.ToFrozenDictionary(m => m, m => m, StringComparer.OrdinalIgnoreCase);

    private readonly int _methodIndex = Array.IndexOf(inner.LabelNames, HttpRequestLabelNames.Method);

    public string Name => inner.Name;
    public string Help => inner.Help;
    public string[] LabelNames => inner.LabelNames;
    public TChild Unlabelled => inner.Unlabelled;

    public static string Label(string method) => Standard.TryGetValue(method, out var standard) ? standard : Other;

    public TChild WithLabels(params string[] labelValues)
    {
        if (_methodIndex >= 0)
        {
            var label = Label(labelValues[_methodIndex]);
            if (!ReferenceEquals(label, labelValues[_methodIndex]))
            {
                labelValues = (string[])labelValues.Clone();
                labelValues[_methodIndex] = label;
            }
        }
        return inner.WithLabels(labelValues);
    }

    public TChild WithLabels(ReadOnlyMemory<string> labelValues) => WithLabels(labelValues.ToArray());

    public TChild WithLabels(ReadOnlySpan<string> labelValues) => WithLabels(labelValues.ToArray());
}
