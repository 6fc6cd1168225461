using System.Globalization;
using System.Text;

namespace Delivery.Hosts.Bake;

/// <summary>What a deploy did, for the CI job summary: where, what, when it switched and how its bake ended.</summary>
public sealed record DeployReport(
    string Environment,
    string Version,
    string Digest,
    string? Commit,
    IReadOnlyList<string> Instances,
    /// <summary>When the new release took the traffic (UTC, as the host recorded it).</summary>
    string? SwitchedAt,
    /// <summary>How long the switch itself took.</summary>
    TimeSpan? SwitchDuration,
    BakeReport Bake,
    /// <summary>The release serving when the deploy ended: the new one, or the previous one after a rollback.</summary>
    string? Serving)
{
    public string ToMarkdown()
    {
        var rows = new List<(string, string)>
        {
            ("Environment", Environment),
            ("Version", Code(Version)),
            ("Digest", Code(Digest)),
            ("Commit", Commit is { Length: > 0 } c ? Code(c.Length > 12 ? c[..12] : c) : "unknown"),
            ("Instances", string.Join(", ", Instances)),
            ("Switched at", SwitchedAt ?? "not switched"),
            ("Switch", SwitchDuration is { } d ? $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms" : "n/a"),
            ("Bake", Verdict()),
        };
        if (Bake.Verdict is BakeVerdict.Pass or BakeVerdict.Fail)
        {
            rows.Add(("5xx rate", $"{BakeReport.Percent(Bake.ErrorRate)} (limit {BakeReport.Percent(Bake.MaxErrorRate)}, {Bake.Errors} of {Bake.Requests} requests)"));
            rows.Add(("p99", $"{BakeReport.Secs(Bake.P99)} (limit {BakeReport.Secs(Bake.P99Limit)}; previous release {BakeReport.Secs(Bake.BaselineP99)})"));
            if (Bake.JudgeLine is not null) rows.Add(("Paired judge", $"{Bake.Judge}: {Bake.JudgeLine}"));
        }
        if (Serving is not null) rows.Add(("Serving now", Code(Serving)));
        var text = new StringBuilder($"### Deploy to {Environment}\n\n| | |\n|---|---|\n");
        foreach (var (name, value) in rows) text.Append("| ").Append(name).Append(" | ").Append(Cell(value)).Append(" |\n");
        return text.ToString();
    }

    string Verdict() => Bake.Verdict switch
    {
        BakeVerdict.Off => "off",
        BakeVerdict.Skipped => "skipped: nothing to roll back to",
        BakeVerdict.Pass => $"✅ passed after {Seconds(Bake.Seconds)} s",
        _ => $"❌ failed: {Bake.Reason}; rolled back after {Seconds(Bake.TimeToRollback?.TotalSeconds ?? Bake.Seconds)} s",
    };

    static string Seconds(double s) => s.ToString("0.#", CultureInfo.InvariantCulture);
    static string Code(string s) => "`" + s.Replace("`", "'") + "`";
    static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");
}
