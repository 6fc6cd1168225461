using System.Text;
using Delivery.Core;

namespace Delivery.Versioning;

/// <summary>What cutting a release did.</summary>
/// <param name="PushCommand">The command that publishes the release commit and tag together.</param>
public sealed record ReleaseCut(SemanticVersion Version, string Tag, string CommitSha, string TagMessage, string PushCommand, bool Pushed);

/// <summary>
/// Cuts a release the way a maintainer would by hand: changelog entries move under the new version, a
/// "Release X.Y.Z" commit and an annotated tag X.Y.Z are made on main, and both are pushed in one atomic push.
/// </summary>
public static class MaintainerRelease
{
    public const string ReleaseBranch = "main";
    public const string ChangelogFile = "CHANGELOG.md";
    const string Remote = "origin";
    static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Every check runs before anything is written; a refusal is a one-line <see cref="DeliveryException"/> and
    /// leaves the repository as it was. If the commit or the tag fails, the changelog and branch are restored.
    /// A failed push leaves the local commit and tag in place, so the printed push command can simply be rerun.
    /// "Clean" means no staged or unstaged changes to tracked files: untracked files never reach the release commit.
    /// "Last release tag" is the highest version tag in the repository (plain or v-prefixed, pre-releases included).
    /// </summary>
    public static async Task<ReleaseCut> CutAsync(
        string directory, string version, DateOnly date, bool push, Action<string> log, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        var release = ParseReleaseVersion(version);
        var tag = release.ToString();

        var root = (await Git.ProbeAsync(directory, "releases are cut from a clone of the repository", ct)).TopLevel;
        var head = await Git.HeadShaAsync(root, ct)
            ?? throw new DeliveryException($"The repository at '{root}' has no commits yet; nothing to release");
        await RequireReleaseBranchAsync(root, ct);
        await RequireCleanTreeAsync(root, ct);
        await RequireUpToDateAsync(root, ct);
        await RequireNewVersionAsync(root, release, ct);
        if (push) await RequireRemoteAsync(root, ct);

        var changelogPath = Path.Combine(root, ChangelogFile);
        if (!File.Exists(changelogPath))
            throw new DeliveryException($"There is no {ChangelogFile} at the repository root '{root}'; releases take their notes from it");
        var tracked = await Git.RunAsync(root, ["ls-files", "--error-unmatch", "--", ChangelogFile], ct);
        if (!tracked.Succeeded)
            throw new DeliveryException($"{ChangelogFile} is not tracked by git; commit it before releasing");
        var original = await File.ReadAllBytesAsync(changelogPath, ct);
        var hasBom = original.AsSpan().StartsWith(Utf8Bom);
        var changelog = Changelog.Parse(new UTF8Encoding(false).GetString(original.AsSpan(hasBom ? Utf8Bom.Length : 0)))
            .Release(release, date);

        await File.WriteAllTextAsync(changelogPath, changelog.Text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: hasBom), ct);
        var commit = await Git.RunAsync(root, ["commit", "--quiet", "--message", $"Release {tag}", "--", ChangelogFile], ct);
        if (!commit.Succeeded)
        {
            // A commit limited to paths uses a temporary index, so only the file itself needs putting back.
            await File.WriteAllBytesAsync(changelogPath, original, ct);
            throw new DeliveryException($"Committing the release failed (the changelog was restored): {commit.Tail()}");
        }
        var releaseCommit = (await Git.HeadShaAsync(root, ct))!;
        log($"Committed 'Release {tag}' ({releaseCommit[..7]}) with {ChangelogFile} updated");

        // 'whitespace' keeps the changelog's '### Added' lines, which the default cleanup would strip as comments.
        var tagged = await Git.RunAsync(root, ["tag", "--annotate", "--cleanup=whitespace", "--file=-", tag], ct, changelog.Section);
        if (!tagged.Succeeded)
        {
            // --keep moves main back and restores CHANGELOG.md, refusing to touch anything else changed meanwhile.
            var undo = await Git.RunAsync(root, ["reset", "--quiet", "--keep", head], ct);
            var undone = undo.Succeeded ? "the release commit was undone" : $"undoing the release commit also failed ({undo.Tail(1)}): run 'git reset --keep {head}'";
            throw new DeliveryException($"Tagging {tag} failed and {undone}: {tagged.Tail()}");
        }
        log($"Tagged {tag} (annotated, message: the changelog section)");

        var pushArguments = new[] { "push", "--atomic", Remote, ReleaseBranch, tag };
        var pushCommand = "git " + string.Join(' ', pushArguments);
        if (!push)
        {
            log($"To publish the release, run: {pushCommand}");
            return new ReleaseCut(release, tag, releaseCommit, changelog.Section, pushCommand, Pushed: false);
        }

        log($"Pushing: {pushCommand}");
        var pushed = await Git.RunAsync(root, pushArguments, ct);
        if (!pushed.Succeeded)
            throw new DeliveryException($"Push failed (the release commit and tag {tag} exist locally; fix the cause and run '{pushCommand}'): {pushed.Tail()}");
        log($"Pushed {ReleaseBranch} and {tag} to {Remote}");
        return new ReleaseCut(release, tag, releaseCommit, changelog.Section, pushCommand, Pushed: true);
    }

    static SemanticVersion ParseReleaseVersion(string version)
    {
        if (string.IsNullOrWhiteSpace(version))
            throw new DeliveryException("A release needs a version, e.g. --release-version 1.2.3");
        if (!SemanticVersion.TryParse(version.Trim(), out var parsed))
            throw new DeliveryException($"Release version '{version}' is not a valid SemVer 2.0 version (e.g. 1.2.3 or 1.2.3-rc.1, no 'v' prefix)");
        if (parsed.BuildMetadata is not null)
            throw new DeliveryException($"Release version '{version}' has build metadata; tag the version alone (e.g. {parsed.WithoutBuildMetadata()})");
        return parsed;
    }

    static async Task RequireReleaseBranchAsync(string root, CancellationToken ct)
    {
        var branch = await Git.CurrentBranchAsync(root, ct);
        if (branch != ReleaseBranch)
            throw new DeliveryException(branch is null
                ? $"HEAD is detached; releases are cut on '{ReleaseBranch}': run 'git switch {ReleaseBranch}'"
                : $"HEAD is on branch '{branch}'; releases are cut on '{ReleaseBranch}': run 'git switch {ReleaseBranch}'");
    }

    static async Task RequireCleanTreeAsync(string root, CancellationToken ct)
    {
        var changed = await Git.ChangedTrackedFilesAsync(root, ct);
        if (changed.Count > 0)
            throw new DeliveryException(
                $"The work tree has uncommitted changes ({string.Join(", ", changed.Take(3))}{(changed.Count > 3 ? ", …" : "")}); commit or stash them before releasing");
    }

    static async Task RequireUpToDateAsync(string root, CancellationToken ct)
    {
        var upstream = await Git.RunAsync(root, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"], ct);
        if (!upstream.Succeeded) return; // no upstream configured: nothing to be behind
        var name = upstream.StandardOutput.Trim();
        // Offline on purpose: compares with the last fetched state of the upstream, never fetches.
        var behind = await Git.RunCheckedAsync(root, ["rev-list", "--count", "HEAD..@{upstream}"], ct);
        var count = int.Parse(behind.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        if (count > 0)
            throw new DeliveryException($"'{ReleaseBranch}' is {count} commit(s) behind '{name}'; pull (git pull --ff-only) before releasing");
    }

    static async Task RequireNewVersionAsync(string root, SemanticVersion release, CancellationToken ct)
    {
        var tags = await Git.TagsAsync(root, ct);
        var tag = release.ToString();
        if (tags.Any(t => t.Name == tag || t.Name == "v" + tag))
            throw new DeliveryException($"Tag {tags.First(t => t.Name == tag || t.Name == "v" + tag).Name} already exists; pick another version");
        var last = tags
            .Select(t => (t.Name, Version: VersionCalculator.ParseTag(t.Name, ["", "v"])))
            .Where(t => t.Version is not null)
            .OrderByDescending(t => t.Version)
            .FirstOrDefault();
        if (last.Version is not null && release <= last.Version)
            throw new DeliveryException($"Version {tag} is not greater than the last release tag {last.Name}; pick a higher version");
    }

    static async Task RequireRemoteAsync(string root, CancellationToken ct)
    {
        var remote = await Git.RunAsync(root, ["remote", "get-url", Remote], ct);
        if (!remote.Succeeded)
            throw new DeliveryException($"Cannot push: this repository has no '{Remote}' remote; add it, or release without --push");
    }
}
