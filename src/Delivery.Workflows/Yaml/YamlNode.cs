using System.Collections;

namespace Delivery.Workflows.Yaml;

/// <summary>
/// A tiny ordered YAML tree. The workflow is built as this tree so that key order is exactly the order of
/// construction, and each scalar knows whether it is text or a literal (number, boolean).
/// </summary>
public abstract class YamlNode
{
    public static implicit operator YamlNode?(string? text) => text is null ? null : new YamlScalar(text, isText: true);
    public static implicit operator YamlNode(int number) => new YamlScalar(number.ToString(System.Globalization.CultureInfo.InvariantCulture), isText: false);
    public static implicit operator YamlNode(bool flag) => new YamlScalar(flag ? "true" : "false", isText: false);
}

/// <summary>A scalar; text scalars are quoted when a plain rendering would read back as something else.</summary>
public sealed class YamlScalar : YamlNode
{
    public YamlScalar(string value, bool isText)
    {
        Value = value;
        IsText = isText;
    }

    public string Value { get; }
    public bool IsText { get; }
}

/// <summary>A mapping whose entries keep insertion order. Adding a null value leaves the key out.</summary>
public sealed class YamlMap : YamlNode, IEnumerable<KeyValuePair<string, YamlNode>>
{
    readonly List<KeyValuePair<string, YamlNode>> entries = [];

    public int Count => entries.Count;

    public void Add(string key, YamlNode? value)
    {
        if (value is null) return;
        if (entries.Any(e => e.Key == key))
            throw new InvalidOperationException($"Duplicate YAML key '{key}'.");
        entries.Add(new(key, value));
    }

    public IEnumerator<KeyValuePair<string, YamlNode>> GetEnumerator() => entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

public sealed class YamlList : YamlNode, IEnumerable<YamlNode>
{
    readonly List<YamlNode> items = [];

    public YamlList() { }
    public YamlList(IEnumerable<YamlNode> items) => this.items.AddRange(items);

    public int Count => items.Count;

    public void Add(YamlNode? item)
    {
        if (item is not null) items.Add(item);
    }

    public IEnumerator<YamlNode> GetEnumerator() => items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
