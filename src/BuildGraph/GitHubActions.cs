using System.Text;

namespace BuildGraph;

/// <summary>
/// GitHub Actions' workflow commands and job summary, as pure text: each target's output becomes a collapsible log
/// group, a failed target's one-line error an <c>::error::</c> annotation, and the summary table plus whatever
/// sections targets add (<see cref="BuildBase.AddStepSummary"/>) go to <c>$GITHUB_STEP_SUMMARY</c> as Markdown.
/// </summary>
public static class GitHubActions
{
    /// <summary>True when the run's environment says it is a GitHub Actions job.</summary>
    public static bool IsActive(IReadOnlyDictionary<string, string> variables) =>
        variables.GetValueOrDefault("GITHUB_ACTIONS")?.Trim().Equals("true", StringComparison.OrdinalIgnoreCase) == true;

    public static string Group(string title) => $"::group::{EscapeData(title)}";

    public const string EndGroup = "::endgroup::";

    /// <summary>An error annotation: <c>::error title=T::message</c>, one line whatever the message holds.</summary>
    public static string Error(string title, string message) =>
        $"::error title={EscapeProperty(title)}::{EscapeData(message)}";

    /// <summary>The escaping GitHub's runner undoes for a command's message.</summary>
    public static string EscapeData(string value) =>
        value.Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");

    /// <summary>Property values additionally escape the separators of the property list.</summary>
    public static string EscapeProperty(string value) =>
        EscapeData(value).Replace(":", "%3A").Replace(",", "%2C");

    /// <summary>The summary table in Markdown, one row per scheduled target.</summary>
    public static string SummaryTable(IReadOnlyList<TargetResult> results, string verdict)
    {
        var text = new StringBuilder()
            .Append("### Build ").Append(verdict).Append("\n\n")
            .Append("| Target | Status | Duration | Note |\n")
            .Append("|---|---|---|---|\n");
        foreach (var r in results)
        {
            var duration = r.Status is TargetStatus.Skipped or TargetStatus.NotRun ? "" : BuildConsole.FormatDuration(r.Duration);
            text.Append("| ").Append(Cell(r.Name)).Append(" | ").Append(StatusText(r.Status)).Append(" | ")
                .Append(duration).Append(" | ").Append(Cell(r.Note ?? "")).Append(" |\n");
        }
        return text.ToString();
    }

    /// <summary>Text for one Markdown table cell: pipes escaped, line breaks folded.</summary>
    public static string Cell(string text) =>
        text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", "").Replace("\n", " ");

    static string StatusText(TargetStatus status) => status switch
    {
        TargetStatus.Succeeded => "✅ Succeeded",
        TargetStatus.Failed => "❌ Failed",
        TargetStatus.Aborted => "⛔ Aborted",
        TargetStatus.Skipped => "Skipped",
        _ => "Not run",
    };
}
