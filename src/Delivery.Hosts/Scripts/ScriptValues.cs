using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using static Delivery.Hosts.ShellQuote;

namespace Delivery.Hosts.Scripts;

/// <summary>
/// The one way values reach the host functions: a header of <c>name=value</c> lines, every value quoted by
/// <see cref="ShellQuote.Quote"/>. A plan offers all the values it has; the header keeps those its text reads.
/// </summary>
public sealed partial class ScriptValues
{
    readonly List<(string Name, string Value)> _values = [];

    public ScriptValues Add(string name, string value)
    {
        if (!Name().IsMatch(name)) throw new ArgumentException($"'{name}' is not a shell variable name for the host scripts.", nameof(name));
        if (_values.Any(v => v.Name == name)) throw new ArgumentException($"The value {name} is set twice.", nameof(name));
        _values.Add((name, Quote(value)));
        return this;
    }

    public ScriptValues Add(string name, long value) => Add(name, value.ToString(CultureInfo.InvariantCulture));

    public ScriptValues Add(string name, double value) => Add(name, value.ToString("0.######", CultureInfo.InvariantCulture));

    /// <summary>Whole milliseconds.</summary>
    public ScriptValues Add(string name, TimeSpan value) => Add(name, (long)Math.Round(value.TotalMilliseconds));

    /// <summary>A bash array.</summary>
    public ScriptValues Add(string name, IEnumerable<string> values)
    {
        Add(name, "");
        _values[^1] = (name, "(" + string.Join(' ', values.Select(Quote)) + ")");
        return this;
    }

    /// <summary>The <c>name=value</c> lines for the values <paramref name="readBy"/> mentions, in the order they were added.</summary>
    public string Render(string readBy)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in _values)
            if (Regex.IsMatch(readBy, $"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])"))
                text.Append(name).Append('=').Append(value).Append('\n');
        return text.ToString();
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex Name();
}
