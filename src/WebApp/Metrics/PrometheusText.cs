using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WebApp.Metrics;

/// <summary>Names, escaping and number formatting of the Prometheus text exposition format 0.0.4.</summary>
public static partial class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricNamePattern();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelNamePattern();

    public static bool IsValidMetricName(string name) => MetricNamePattern().IsMatch(name);

    // Names starting with "__" are reserved for Prometheus itself.
    public static bool IsValidLabelName(string name) => LabelNamePattern().IsMatch(name) && !name.StartsWith("__", StringComparison.Ordinal);

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
            return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>HELP text escapes only backslash and line feed.</summary>
    public static string EscapeHelp(string help) =>
        help.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);

    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    internal static void WriteSample(TextWriter writer, string name, IReadOnlyList<string> labelNames, IReadOnlyList<string> labelValues,
        double value, string? extraLabelName = null, string? extraLabelValue = null)
    {
        writer.Write(name);
        var count = labelNames.Count;
        if (count > 0 || extraLabelName is not null)
        {
            writer.Write('{');
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                    writer.Write(',');
                writer.Write(labelNames[i]);
                writer.Write("=\"");
                writer.Write(EscapeLabelValue(labelValues[i]));
                writer.Write('"');
            }
            if (extraLabelName is not null)
            {
                if (count > 0)
                    writer.Write(',');
                writer.Write(extraLabelName);
                writer.Write("=\"");
                writer.Write(EscapeLabelValue(extraLabelValue!));
                writer.Write('"');
            }
            writer.Write('}');
        }
        writer.Write(' ');
        writer.Write(FormatValue(value));
        writer.Write('\n');
    }
}
