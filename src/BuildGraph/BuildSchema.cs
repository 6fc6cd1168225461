using System.Text;
using System.Text.Json;

namespace BuildGraph;

/// <summary>
/// <c>.nuke/build.schema.json</c>: the JSON schema of <c>.nuke/parameters.json</c>, so editors complete and check
/// parameter names, enum values and target names. Regenerated on each run, written only when it changed.
/// </summary>
internal static class BuildSchema
{
    public const string RelativePath = ".nuke/build.schema.json";

    public static string Render(IReadOnlyList<BuildParameter> parameters, IReadOnlyList<string> targetNames)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", "http://json-schema.org/draft-07/schema#");
            json.WriteString("title", "Build Schema");
            json.WriteString("type", "object");
            json.WriteStartObject("properties");

            json.WriteStartObject("$schema");
            json.WriteString("type", "string");
            json.WriteEndObject();

            foreach (var p in parameters)
            {
                json.WriteStartObject(p.Name);
                var element = ElementSchema(p);
                if (p.IsArray)
                {
                    json.WriteString("type", "array");
                    json.WriteString("description", Describe(p));
                    json.WriteStartObject("items");
                    element(json);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteString("description", Describe(p));
                    element(json);
                }
                json.WriteEndObject();
            }

            foreach (var (name, description) in new[] { ("Target", "Targets to run"), ("Skip", "Targets to skip") })
            {
                json.WriteStartObject(name);
                json.WriteString("type", "array");
                json.WriteString("description", description);
                json.WriteStartObject("items");
                json.WriteString("type", "string");
                json.WriteStartArray("enum");
                foreach (var t in targetNames) json.WriteStringValue(t);
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes the schema when its content changed; returns whether it wrote.</summary>
    public static bool Write(AbsolutePath root, IReadOnlyList<BuildParameter> parameters, IReadOnlyList<string> targetNames)
    {
        var path = root / RelativePath;
        var content = Render(parameters, targetNames);
        if (path.FileExists && File.ReadAllText(path) == content) return false;
        Directory.CreateDirectory(path.Parent);
        // Write then rename, so a concurrent run never reads half a file.
        var temp = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
        return true;
    }

    static string Describe(BuildParameter p) => p.IsSecret ? p.Description + " (secret)" : p.Description;

    static Action<Utf8JsonWriter> ElementSchema(BuildParameter p)
    {
        var t = p.ElementType;
        if (t.IsEnum)
            return json =>
            {
                json.WriteString("type", "string");
                json.WriteStartArray("enum");
                foreach (var name in Enum.GetNames(t)) json.WriteStringValue(name);
                json.WriteEndArray();
            };
        var type = t == typeof(bool) ? "boolean"
            : t == typeof(int) || t == typeof(long) ? "integer"
            : t == typeof(double) ? "number"
            : "string";
        return json => json.WriteString("type", type);
    }
}
