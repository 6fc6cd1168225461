using System.Text;

namespace Delivery.Workflows;

/// <summary>
/// A line diff in unified style (<c>@@ -a,b +c,d @@</c> hunks, <c>-</c>/<c>+</c> lines, two lines of context),
/// enough to show a developer what regeneration would change.
/// </summary>
public static class LineDiff
{
    const int ContextLines = 2;

    enum Kind { Same, Removed, Added }

    readonly record struct Edit(Kind Kind, string Text, int OldLine, int NewLine);

    /// <returns>An empty string when the texts have the same lines.</returns>
    public static string Unified(string oldText, string newText, string oldLabel = "on disk", string newLabel = "generated")
    {
        var edits = Edits(SplitLines(oldText), SplitLines(newText));
        if (edits.All(e => e.Kind == Kind.Same)) return "";

        var output = new StringBuilder();
        output.Append("--- ").Append(oldLabel).Append('\n');
        output.Append("+++ ").Append(newLabel).Append('\n');
        foreach (var (start, end) in Hunks(edits))
        {
            var slice = edits.Skip(start).Take(end - start).ToList();
            var oldCount = slice.Count(e => e.Kind != Kind.Added);
            var newCount = slice.Count(e => e.Kind != Kind.Removed);
            var oldStart = oldCount == 0 ? slice[0].OldLine - 1 : slice.First(e => e.Kind != Kind.Added).OldLine;
            var newStart = newCount == 0 ? slice[0].NewLine - 1 : slice.First(e => e.Kind != Kind.Removed).NewLine;
            output.Append($"@@ -{oldStart},{oldCount} +{newStart},{newCount} @@\n");
            foreach (var edit in slice)
                output.Append(edit.Kind switch { Kind.Removed => '-', Kind.Added => '+', _ => ' ' }).Append(edit.Text).Append('\n');
        }
        return output.ToString();
    }

    /// <summary>Number of removed plus added lines between two texts.</summary>
    public static int ChangedLineCount(string oldText, string newText) =>
        Edits(SplitLines(oldText), SplitLines(newText)).Count(e => e.Kind != Kind.Same);

    static string[] SplitLines(string text)
    {
        if (text.Length == 0) return [];
        var lines = text.Split('\n');
        // A final newline ends the last line rather than starting an empty one.
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    /// <summary>Longest-common-subsequence edit script. Common head and tail are trimmed first, so the quadratic
    /// table only covers the region that changed.</summary>
    static List<Edit> Edits(string[] a, string[] b)
    {
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head]) head++;
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)]) tail++;

        var n = a.Length - head - tail;
        var m = b.Length - head - tail;
        var lcs = new int[n + 1, m + 1];
        for (var i = n - 1; i >= 0; i--)
            for (var j = m - 1; j >= 0; j--)
                lcs[i, j] = a[head + i] == b[head + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);

        var edits = new List<Edit>(a.Length + b.Length);
        for (var k = 0; k < head; k++) edits.Add(new(Kind.Same, a[k], k + 1, k + 1));
        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && a[head + x] == b[head + y])
            {
                edits.Add(new(Kind.Same, a[head + x], head + x + 1, head + y + 1));
                x++; y++;
            }
            else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                // Removals before additions, as diff(1) prints them.
                edits.Add(new(Kind.Removed, a[head + x], head + x + 1, head + y + 1));
                x++;
            }
            else
            {
                edits.Add(new(Kind.Added, b[head + y], head + x + 1, head + y + 1));
                y++;
            }
        }
        for (var k = 0; k < tail; k++)
            edits.Add(new(Kind.Same, a[a.Length - tail + k], a.Length - tail + k + 1, b.Length - tail + k + 1));
        return edits;
    }

    /// <summary>Ranges of the edit list to print: each change with its context, overlapping ranges merged.</summary>
    static IEnumerable<(int Start, int End)> Hunks(List<Edit> edits)
    {
        var ranges = new List<(int Start, int End)>();
        for (var i = 0; i < edits.Count; i++)
        {
            if (edits[i].Kind == Kind.Same) continue;
            var start = Math.Max(0, i - ContextLines);
            var end = Math.Min(edits.Count, i + 1 + ContextLines);
            if (ranges.Count > 0 && start <= ranges[^1].End)
                ranges[^1] = (ranges[^1].Start, Math.Max(ranges[^1].End, end));
            else
                ranges.Add((start, end));
        }
        return ranges;
    }
}
