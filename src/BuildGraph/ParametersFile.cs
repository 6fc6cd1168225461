using System.Text.Json;

namespace BuildGraph;

/// <summary>
/// <c>.nuke/parameters.json</c>: the lowest-priority source of parameter values. Keys are member names
/// (<c>RegistryPassword</c>) or their kebab form; <c>Target</c> and <c>Skip</c> name targets as on the command line.
/// </summary>
internal sealed class ParametersFile
{
    public const string RelativePath = ".nuke/parameters.json";

    readonly Dictionary<string, (string Name, IReadOnlyList<string> Values)> entries = new(StringComparer.Ordinal);

    public IReadOnlyList<string>? Targets => Find("target")?.Values;

    public IReadOnlyList<string>? Skip => Find("skip")?.Values;

    public IEnumerable<string> Names => entries.Values.Select(e => e.Name);

    public (string Name, IReadOnlyList<string> Values)? Find(string key) =>
        entries.TryGetValue(key, out var entry) ? entry : null;

    public static ParametersFile Load(AbsolutePath root)
    {
        var file = new ParametersFile();
        var path = root / RelativePath;
        if (!path.FileExists) return file;

        var text = File.ReadAllText(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions
            {
                AllowTrailingCommas = true,
                CommentHandling = JsonCommentHandling.Skip,
            });
        }
        catch (JsonException e)
        {
            var reason = e.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) reason = reason[..cut];
            throw new BuildException($"Malformed {RelativePath} at line {(e.LineNumber ?? 0) + 1}, position {Column(text, e.LineNumber ?? 0, e.BytePositionInLine ?? 0)}: {reason}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new BuildException($"Malformed {RelativePath}: the top level must be an object.");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "$schema" || property.Value.ValueKind == JsonValueKind.Null) continue;
                file.entries[Naming.Key(property.Name)] = (property.Name, Values(property));
            }
        }
        return file;
    }

    static IReadOnlyList<string> Values(JsonProperty property)
    {
        var value = property.Value;
        return value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(v => Scalar(property.Name, v)).ToList()
            : [Scalar(property.Name, value)];
    }

    static string Scalar(string name, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new BuildException($"{RelativePath}: the value of '{name}' must be a string, number, boolean or an array of them."),
    };

    /// <summary>The 1-based character column for the byte offset System.Text.Json reports, so a name with
    /// non-ASCII letters earlier on the line does not shift the position.</summary>
    static long Column(string text, long line, long bytePosition)
    {
        var lines = text.Split('\n');
        if (line >= lines.Length) return bytePosition + 1;
        var bytes = System.Text.Encoding.UTF8.GetBytes(lines[line]);
        var length = (int)Math.Min(bytePosition, bytes.Length);
        return System.Text.Encoding.UTF8.GetCharCount(bytes, 0, length) + 1;
    }
}
