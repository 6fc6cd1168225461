namespace BuildGraph;

/// <summary>Tables a target prints: aligned text columns for the log, a Markdown table for the job summary. The first
/// row is the header.</summary>
public static class Tables
{
    /// <summary>One line per row, each column as wide as its widest cell, two spaces apart, no trailing blanks.</summary>
    public static IReadOnlyList<string> Text(IReadOnlyList<IReadOnlyList<string>> rows)
    {
        if (rows.Count == 0) return [];
        var columns = rows.Max(r => r.Count);
        var widths = Enumerable.Range(0, columns).Select(i => rows.Max(r => i < r.Count ? r[i].Length : 0)).ToArray();
        return rows.Select(row => string.Join("  ", Enumerable.Range(0, columns).Select(i => (i < row.Count ? row[i] : "").PadRight(widths[i]))).TrimEnd()).ToList();
    }

    /// <summary>A GitHub-flavoured Markdown table; a pipe in a cell is escaped and a line break becomes a space.</summary>
    public static string Markdown(IReadOnlyList<IReadOnlyList<string>> rows)
    {
        if (rows.Count == 0) return "";
        var columns = rows.Max(r => r.Count);
        string Line(IReadOnlyList<string> row) =>
            "| " + string.Join(" | ", Enumerable.Range(0, columns).Select(i => Cell(i < row.Count ? row[i] : ""))) + " |\n";
        return Line(rows[0]) + "|" + string.Concat(Enumerable.Repeat("---|", columns)) + "\n" + string.Concat(rows.Skip(1).Select(Line));
    }

    static string Cell(string text) => text.Replace("|", "\\|").Replace("\r\n", " ").Replace('\n', ' ');
}
