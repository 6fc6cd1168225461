using System.Text;
using System.Text.RegularExpressions;

namespace Delivery.Docker;

/// <summary>
/// The basics of .dockerignore: one pattern a line, '#' comments, '*', '?', '**' and '[…]' wildcards, '!' to re-include,
/// a leading '/' ignored, and a pattern that matches a directory also excluding everything below it. The last
/// matching line wins.
/// </summary>
public sealed class DockerIgnore
{
    readonly List<(Regex Pattern, bool Include)> rules = [];

    public DockerIgnore(IEnumerable<string> lines)
    {
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var include = line.StartsWith('!');
            if (include) line = line[1..].Trim();
            line = Normalize(line);
            if (line.Length == 0) continue;
            rules.Add((new Regex(ToRegex(line), RegexOptions.CultureInvariant), include));
        }
    }

    public static DockerIgnore Empty { get; } = new([]);

    public static DockerIgnore Load(string path) => File.Exists(path) ? new DockerIgnore(File.ReadAllLines(path)) : Empty;

    /// <summary>True when any rule re-includes paths (so excluded directories must still be walked).</summary>
    public bool HasIncludeRules => rules.Any(r => r.Include);

    /// <summary>Whether a path relative to the context root (with '/' separators) is left out of the context.</summary>
    public bool IsExcluded(string relativePath)
    {
        var path = Normalize(relativePath);
        var excluded = false;
        foreach (var (pattern, include) in rules)
        {
            if (MatchesSelfOrParent(pattern, path)) excluded = !include;
        }
        return excluded;
    }

    static bool MatchesSelfOrParent(Regex pattern, string path)
    {
        if (pattern.IsMatch(path)) return true;
        for (var slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1))
            if (pattern.IsMatch(path[..slash])) return true;
        return false;
    }

    static string Normalize(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p != ".").ToList();
        return string.Join('/', parts);
    }

    static string ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        regex.Append("(?:.*/)?"); // "**/" : zero or more directories
                    }
                    else
                    {
                        regex.Append(".*");
                    }
                    break;
                case '*':
                    regex.Append("[^/]*");
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }
                    var set = pattern[(i + 1)..close];
                    if (set.StartsWith('^') || set.StartsWith('!')) set = "^" + set[1..];
                    regex.Append('[').Append(set.Replace(@"\", @"\\")).Append(']');
                    i = close;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    regex.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return regex.Append('$').ToString();
    }
}
