using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Versioning;

/// <summary>The result of releasing a changelog's Unreleased entries.</summary>
/// <param name="Text">The whole new changelog.</param>
/// <param name="Section">The new version's section as it appears in <paramref name="Text"/>, heading included.</param>
public sealed record ChangelogRelease(string Text, string Section);

/// <summary>
/// A "Keep a Changelog" file (https://keepachangelog.com): level-2 sections <c>## [Unreleased]</c> and
/// <c>## [X.Y.Z] - YYYY-MM-DD</c>, and link definitions such as <c>[Unreleased]: repo/compare/X.Y.Z...HEAD</c>.
/// Pure: it reads and produces text, and never touches a file.
/// </summary>
public sealed partial class Changelog
{
    readonly string[] lines;
    readonly string newLine;
    readonly bool endsWithNewLine;
    readonly int unreleasedHeading;
    readonly int unreleasedEnd; // exclusive: the next level-2 heading, the first link definition, or the end

    Changelog(string[] lines, string newLine, bool endsWithNewLine, int unreleasedHeading, int unreleasedEnd)
    {
        this.lines = lines;
        this.newLine = newLine;
        this.endsWithNewLine = endsWithNewLine;
        this.unreleasedHeading = unreleasedHeading;
        this.unreleasedEnd = unreleasedEnd;
    }

    /// <summary>The <c>- </c> entries under <c>## [Unreleased]</c>.</summary>
    public IReadOnlyList<string> UnreleasedEntries =>
        lines[(unreleasedHeading + 1)..unreleasedEnd].Where(line => EntryLine().IsMatch(line)).ToList();

    /// <summary>The versions of the released sections as written in their headings, newest (topmost) first.</summary>
    public IReadOnlyList<string> ReleasedVersions =>
        lines.Select(line => VersionHeading().Match(line))
            .Where(m => m.Success && !m.Groups["version"].Value.Equals("Unreleased", StringComparison.OrdinalIgnoreCase))
            .Select(m => m.Groups["version"].Value)
            .ToList();

    /// <summary>Reads a changelog; it must have an <c>## [Unreleased]</c> section.</summary>
    public static Changelog Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var newLine = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var endsWithNewLine = normalized.EndsWith('\n');
        var lines = (endsWithNewLine ? normalized[..^1] : normalized).Split('\n');

        var heading = Array.FindIndex(lines, line => UnreleasedHeading().IsMatch(line));
        if (heading < 0)
            throw new DeliveryException("CHANGELOG.md has no '## [Unreleased]' section; add one (https://keepachangelog.com) listing the changes to release");
        var end = heading + 1;
        while (end < lines.Length && !SectionHeading().IsMatch(lines[end]) && !LinkDefinition().IsMatch(lines[end]))
            end++;
        return new Changelog(lines, newLine, endsWithNewLine, heading, end);
    }

    /// <summary>
    /// Moves the Unreleased entries under <c>## [version] - date</c>, leaves an empty Unreleased section above it,
    /// and updates the compare links when the file has an <c>[Unreleased]:</c> link to take the repository URL from.
    /// </summary>
    public ChangelogRelease Release(SemanticVersion version, DateOnly date)
    {
        ArgumentNullException.ThrowIfNull(version);
        var name = version.WithoutBuildMetadata().ToString();
        if (UnreleasedEntries.Count == 0)
            throw new DeliveryException("CHANGELOG.md's [Unreleased] section has no entries; add at least one '- ' line describing the change before releasing");
        if (ReleasedVersions.Contains(name, StringComparer.OrdinalIgnoreCase) || FindLink(name) >= 0)
            throw new DeliveryException($"CHANGELOG.md already has a [{name}] section or link; pick another version");

        var body = TrimBlankLines(lines[(unreleasedHeading + 1)..unreleasedEnd]);
        var section = new List<string> { $"## [{name}] - {date:yyyy-MM-dd}", "" };
        section.AddRange(body);

        var result = new List<string>(lines[..(unreleasedHeading + 1)]) { "" };
        result.AddRange(section);
        result.Add("");
        result.AddRange(lines[unreleasedEnd..]);
        UpdateLinks(result, name);

        var text = string.Join(newLine, result) + (endsWithNewLine ? newLine : "");
        return new ChangelogRelease(text, string.Join(newLine, section));
    }

    void UpdateLinks(List<string> result, string name)
    {
        var unreleasedLink = result.FindIndex(line => UnreleasedLink().IsMatch(line));
        if (unreleasedLink < 0) return;
        var match = UnreleasedLink().Match(result[unreleasedLink]);
        var label = match.Groups["label"].Value;
        var url = match.Groups["url"].Value;

        string repository;
        string? previous;
        if (CompareUrl().Match(url) is { Success: true } compare)
        {
            repository = compare.Groups["repo"].Value;
            previous = compare.Groups["base"].Value;
        }
        else
        {
            // e.g. ".../commits/main" before the first release: no base to compare with in the link itself.
            repository = RepositoryPageUrl().Match(url) is { Success: true } page ? page.Groups["repo"].Value : url.TrimEnd('/');
            previous = ReleasedVersions.FirstOrDefault();
        }

        result[unreleasedLink] = $"[{label}]: {repository}/compare/{name}...HEAD";
        result.Insert(unreleasedLink + 1, previous is null
            ? $"[{name}]: {repository}/releases/tag/{name}"
            : $"[{name}]: {repository}/compare/{previous}...{name}");
    }

    int FindLink(string name) =>
        Array.FindIndex(lines, line => line.StartsWith($"[{name}]:", StringComparison.OrdinalIgnoreCase));

    static List<string> TrimBlankLines(string[] block)
    {
        var start = 0;
        var end = block.Length;
        while (start < end && string.IsNullOrWhiteSpace(block[start])) start++;
        while (end > start && string.IsNullOrWhiteSpace(block[end - 1])) end--;
        return block[start..end].ToList();
    }

    [GeneratedRegex(@"^##\s+\[?Unreleased\]?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex UnreleasedHeading();

    [GeneratedRegex(@"^##\s")]
    private static partial Regex SectionHeading();

    [GeneratedRegex(@"^##\s+\[(?<version>[^\]]+)\]")]
    private static partial Regex VersionHeading();

    [GeneratedRegex(@"^\[[^\]]+\]:\s*\S")]
    private static partial Regex LinkDefinition();

    [GeneratedRegex(@"^\[(?<label>unreleased)\]:\s*(?<url>\S+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex UnreleasedLink();

    [GeneratedRegex(@"^(?<repo>.+)/compare/(?<base>.+)\.\.\.[^/]+$")]
    private static partial Regex CompareUrl();

    [GeneratedRegex(@"^(?<repo>.+?)/(?:commits|tree|releases|compare)(?:/.*)?$")]
    private static partial Regex RepositoryPageUrl();

    [GeneratedRegex(@"^\s*-\s+\S")]
    private static partial Regex EntryLine();
}
