using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Delivery.Hosts.Scripts;

/// <summary>
/// The host-side shell functions: <c>.sh</c> files embedded in this assembly, one per area (Scripts/*.sh). A file
/// names the files whose functions it calls on its <c># needs:</c> line; a plan includes the files it uses together
/// with everything they need, each once, needs first. The files hold no values: they read the variables that
/// <see cref="ScriptValues"/> renders above them.
/// </summary>
public static partial class ShellFiles
{
    const string ResourcePrefix = "host-scripts/";

    static readonly Assembly Assembly = typeof(ShellFiles).Assembly;

    /// <summary>Every file, by its path under Scripts/ (e.g. <c>lock.sh</c>, <c>lib/output.sh</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Select(n => n[ResourcePrefix.Length..]).Order(StringComparer.Ordinal).ToList();

    public static string Text(string name)
    {
        using var stream = Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"No host script file {name}; the files are {string.Join(", ", Names)}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }

    /// <summary>The files named on the file's <c># needs:</c> line.</summary>
    public static IReadOnlyList<string> Needs(string name) =>
        NeedsLine().Match(Text(name)) is { Success: true } m ? m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];

    /// <summary>The files with everything they need, needs first, each once.</summary>
    public static IReadOnlyList<string> WithNeeds(IEnumerable<string> names)
    {
        var order = new List<string>();
        void Visit(string name, IReadOnlyList<string> path)
        {
            if (order.Contains(name)) return;
            if (path.Contains(name)) throw new InvalidOperationException($"Host script files need each other: {string.Join(" -> ", path.Append(name))}.");
            foreach (var need in Needs(name)) Visit(need, [.. path, name]);
            order.Add(name);
        }
        foreach (var name in names) Visit(name, []);
        return order;
    }

    /// <summary>The text a plan includes: each file under a comment naming it, without the editor's shell directive.</summary>
    public static string Render(IEnumerable<string> names)
    {
        var text = new StringBuilder();
        foreach (var name in WithNeeds(names))
            text.Append($"\n# --- {name} ---\n").Append(ShellDirective().Replace(Text(name), "", 1).TrimEnd('\n')).Append('\n');
        return text.ToString();
    }

    [GeneratedRegex(@"^# needs: (.*)$", RegexOptions.Multiline)]
    private static partial Regex NeedsLine();

    [GeneratedRegex(@"^# shellcheck shell=bash\n", RegexOptions.Multiline)]
    private static partial Regex ShellDirective();
}
