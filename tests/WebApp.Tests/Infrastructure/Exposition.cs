using System.Globalization;
using System.Text;

namespace WebApp.Tests.Infrastructure;

/// <summary>One sample line of a Prometheus text exposition.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value, string SeriesKey)
{
    public string? this[string label] => Labels.TryGetValue(label, out var value) ? value : null;
}

/// <summary>A small, strict parser for the text format, independent of the app's writer.</summary>
public static class Exposition
{
    public static IReadOnlyList<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var rawLine in text.Split('\n'))
        {
            if (rawLine.Length == 0 || rawLine.StartsWith('#'))
                continue;
            samples.Add(ParseLine(rawLine));
        }
        return samples;
    }

    /// <summary>The identity of each series (name and labels, no value), for comparing the set of series.</summary>
    public static ISet<string> SeriesKeys(string text) => Parse(text).Select(s => s.SeriesKey).ToHashSet(StringComparer.Ordinal);

    private static Sample ParseLine(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
            i++;
        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var labelName = line[i..eq];
                i = eq + 1;
                if (line[i] != '"')
                    throw new FormatException($"Expected a quoted label value in: {line}");
                i++;
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch
                        {
                            'n' => '\n',
                            '\\' => '\\',
                            '"' => '"',
                            _ => throw new FormatException($"Invalid escape '\\{line[i]}' in: {line}"),
                        });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }
                    i++;
                }
                i++;
                labels.Add(labelName, value.ToString());
                if (line[i] == ',')
                    i++;
            }
            i++;
        }
        if (line[i] != ' ')
            throw new FormatException($"Expected a space before the value in: {line}");
        var valueText = line[(i + 1)..];
        var parsed = valueText switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        var key = name + "{" + string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
        return new Sample(name, labels, parsed, key);
    }
}
