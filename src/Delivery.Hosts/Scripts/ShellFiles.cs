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

    /// <summary>
    /// The text a plan includes: each file under a comment naming it, without the editor's shell directive and without
    /// its comment lines. The comments are for readers of the files; a plan travels inside an SSM command, whose
    /// parameters are limited to 64 KB, and runs the same on this machine. shellcheck directives stay, and so does
    /// every line of a here-document, which is data.
    /// </summary>
    public static string Render(IEnumerable<string> names)
    {
        var text = new StringBuilder();
        foreach (var name in WithNeeds(names))
            text.Append($"\n# --- {name} ---\n").Append(WithoutComments(ShellDirective().Replace(Text(name), "", 1)).TrimEnd('\n')).Append('\n');
        return text.ToString();
    }

    /// <summary>The script without its comment-only lines, outside here-documents; shellcheck directives are kept.</summary>
    public static string WithoutComments(string script)
    {
        var kept = new StringBuilder();
        string? hereEnd = null;
        foreach (var line in script.Split('\n'))
        {
            if (hereEnd is not null)
            {
                if (line.TrimStart('\t') == hereEnd) hereEnd = null;
                kept.Append(line).Append('\n');
                continue;
            }
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith('#') && !trimmed.StartsWith("# shellcheck ", StringComparison.Ordinal)) continue;
            if (HereDocument().Match(line) is { Success: true } m) hereEnd = m.Groups["end"].Value;
            kept.Append(line).Append('\n');
        }
        return kept.ToString(0, Math.Max(0, kept.Length - 1));
    }

    [GeneratedRegex(@"<<-?\s*(?<q>['""]?)(?<end>[A-Za-z_][A-Za-z0-9_]*)\k<q>")]
    private static partial Regex HereDocument();

    [GeneratedRegex(@"^# needs: (.*)$", RegexOptions.Multiline)]
    private static partial Regex NeedsLine();

    [GeneratedRegex(@"^# shellcheck shell=bash\n", RegexOptions.Multiline)]
    private static partial Regex ShellDirective();
}
