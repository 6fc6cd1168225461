using System.Text.RegularExpressions;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>./build.sh CutRelease in the clone, whose origin is a local bare repository.</summary>
[Collection(CloneCollection.Name)]
public sealed partial class ReleaseTests(CloneFixture clone) : CloneTests(clone)
{
    [GeneratedRegex(@"^## \[(?<version>[^\]]+)\](?: - (?<date>\d{4}-\d{2}-\d{2}))?[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex ChangelogHeading();

    string Changelog => Path.Combine(Root, "CHANGELOG.md");

    /// <summary>The git state a refused release must leave exactly as it was.</summary>
    sealed record RepositoryState(string Head, string Branch, string Status, string Tags, string Changelog);

    async Task<RepositoryState> StateAsync() => new(
        await Git.HeadAsync(Root),
        await Git.RunAsync(Root, "branch", "--show-current"),
        await Git.PorcelainAsync(Root),
        await Git.RunAsync(Root, "tag", "--list"),
        await File.ReadAllTextAsync(Changelog));

    async Task<string> RefusedAsync(string version)
    {
        var before = await StateAsync();
        var run = await Clone.BuildAsync("CutRelease", "--release-version", version);
        var message = BuildAssert.TargetFailure(run, "CutRelease");
        Assert.Equal(before, await StateAsync());
        return message;
    }

    async Task<BuildRun> ReleaseAsync(string version, params string[] extra)
    {
        var run = await Clone.BuildAsync(["CutRelease", "--release-version", version, .. extra]);
        BuildAssert.Succeeded(run);
        Assert.StartsWith($"Tagged {version}", run.SummaryNote("CutRelease"));
        return run;
    }

    [Fact]
    public async Task A_release_moves_the_entries_commits_and_tags()
    {
        var unreleased = ChangelogHeading().Matches(await File.ReadAllTextAsync(Changelog));
        Assert.Equal("Unreleased", unreleased[0].Groups["version"].Value);
        var firstEntry = (await File.ReadAllLinesAsync(Changelog)).First(l => l.StartsWith("- ", StringComparison.Ordinal));
        var before = DateTime.UtcNow.ToString("yyyy-MM-dd");

        var run = await Clone.BuildAsync("CutRelease", "--release-version", "1.2.3");

        BuildAssert.Succeeded(run);
        var after = DateTime.UtcNow.ToString("yyyy-MM-dd");
        Assert.Equal("Tagged 1.2.3", run.SummaryNote("CutRelease"));
        Assert.Contains(run.OutputLines, l => l.Contains("git push --atomic origin main 1.2.3", StringComparison.Ordinal));

        // The commit: "Release 1.2.3" on top of where main was, changing only the changelog, leaving a clean tree.
        Assert.Equal("Release 1.2.3", await Git.RunAsync(Root, "log", "-1", "--format=%s"));
        Assert.Equal(Clone.BaseCommit, await Git.RunAsync(Root, "rev-parse", "HEAD~1"));
        Assert.Equal(["CHANGELOG.md"], await Git.LinesAsync(Root, "diff", "--name-only", "HEAD~1", "HEAD"));
        Assert.Equal("", await Git.PorcelainAsync(Root));
        Assert.Equal("main", await Git.RunAsync(Root, "branch", "--show-current"));

        // The changelog: an empty Unreleased section, then the new one, dated today (UTC), holding the entries.
        var changelog = await File.ReadAllTextAsync(Changelog);
        var headings = ChangelogHeading().Matches(changelog);
        Assert.Equal("Unreleased", headings[0].Groups["version"].Value);
        Assert.Equal("1.2.3", headings[1].Groups["version"].Value);
        Assert.Contains(headings[1].Groups["date"].Value, new[] { before, after });
        var between = changelog[headings[0].Index..headings[1].Index];
        Assert.DoesNotContain("\n- ", between);
        Assert.Contains(firstEntry, changelog[headings[1].Index..]);

        // The tag: annotated, on the release commit, its message the changelog section.
        Assert.Equal("tag", await Git.RunAsync(Root, "cat-file", "-t", "1.2.3"));
        Assert.Equal(await Git.HeadAsync(Root), await Git.RunAsync(Root, "rev-parse", "1.2.3^{commit}"));
        var message = await Git.RunAsync(Root, "tag", "--list", "--format=%(contents)", "1.2.3");
        Assert.StartsWith($"## [1.2.3] - {headings[1].Groups["date"].Value}", message);
        Assert.Contains(firstEntry, message);

        // Nothing was pushed without --push.
        Assert.Equal("", await Git.RunAsync(Root, "ls-remote", "--tags", "origin"));

        // And the build now reports the release as its version.
        var version = await Clone.BuildAsync("Version");
        BuildAssert.Succeeded(version);
        Assert.Equal("Version: 1.2.3", version.SummaryNote("Version"));
    }

    [Fact]
    public async Task A_release_with_push_publishes_the_commit_and_the_tag_to_origin()
    {
        var run = await ReleaseAsync("1.2.3", "--push");

        Assert.Equal("Tagged 1.2.3, pushed", run.SummaryNote("CutRelease"));
        var head = await Git.HeadAsync(Root);
        Assert.Equal(head, await Git.RunAsync(Clone.Origin, "rev-parse", "refs/heads/main"));
        Assert.Equal(head, await Git.RunAsync(Clone.Origin, "rev-parse", "1.2.3^{commit}"));
        Assert.Equal("tag", await Git.RunAsync(Clone.Origin, "cat-file", "-t", "1.2.3"));
    }

    [Fact]
    public async Task The_same_version_again_is_refused_because_the_tag_exists()
    {
        await ReleaseAsync("1.2.3");
        await AddUnreleasedEntryAsync("- Another change.");

        var message = await RefusedAsync("1.2.3");

        Assert.Equal("Tag 1.2.3 already exists; pick another version", message);
    }

    [Fact]
    public async Task A_version_not_greater_than_the_last_release_is_refused()
    {
        await ReleaseAsync("1.2.3");
        await AddUnreleasedEntryAsync("- Another change.");

        var message = await RefusedAsync("1.2.2");

        Assert.Equal("Version 1.2.2 is not greater than the last release tag 1.2.3; pick a higher version", message);
    }

    [Fact]
    public async Task An_empty_unreleased_section_is_refused()
    {
        await ReleaseAsync("1.2.3");

        var message = await RefusedAsync("1.2.4");

        Assert.Contains("[Unreleased] section has no entries", message);
    }

    [Fact]
    public async Task A_dirty_tree_is_refused()
    {
        await File.AppendAllTextAsync(Path.Combine(Root, "README.md"), "\nLocal edit.\n");

        var message = await RefusedAsync("1.2.3");

        Assert.Equal("The work tree has uncommitted changes (README.md); commit or stash them before releasing", message);
        Assert.Equal(" M README.md", await Git.RunAsync(Root, "status", "--porcelain"));
    }

    [Fact]
    public async Task A_main_behind_its_upstream_is_refused()
    {
        await Clone.CommitAsync("Someone else's change");
        await Git.RunAsync(Root, "push", "--quiet", "origin", "main");
        await Git.RunAsync(Root, "reset", "--quiet", "--hard", Clone.BaseCommit);

        var message = await RefusedAsync("1.2.3");

        Assert.Equal("'main' is 1 commit(s) behind 'origin/main'; pull (git pull --ff-only) before releasing", message);
    }

    [Fact]
    public async Task A_release_from_another_branch_is_refused()
    {
        await Git.RunAsync(Root, "switch", "--quiet", "--create", "feature");

        var message = await RefusedAsync("1.2.3");

        Assert.Equal("HEAD is on branch 'feature'; releases are cut on 'main': run 'git switch main'", message);
    }

    [Theory]
    [InlineData("v1.2.3")]
    [InlineData("1.2")]
    public async Task A_version_that_is_not_semver_is_refused(string version)
    {
        var message = await RefusedAsync(version);

        Assert.StartsWith($"Release version '{version}' is not a valid SemVer 2.0 version", message);
    }

    [Fact]
    public async Task CutRelease_without_a_version_names_the_missing_parameter()
    {
        var run = await Clone.BuildAsync("CutRelease");

        Assert.Equal("Missing required parameter --release-version (needed by CutRelease)", BuildAssert.UsageError(run));
    }

    [Fact]
    public async Task A_fresh_clone_can_cut_a_release()
    {
        // Any newer timestamp (an editor, a checkout) makes git compare the content again.
        File.SetLastWriteTimeUtc(Path.Combine(Root, "build.cmd"), DateTime.UtcNow.AddMinutes(1));

        await ReleaseAsync("1.2.3");
    }

    /// <summary>Commits a new entry under Unreleased, as a contributor would.</summary>
    async Task AddUnreleasedEntryAsync(string entry)
    {
        var text = await File.ReadAllTextAsync(Changelog);
        var unreleased = ChangelogHeading().Match(text);
        Assert.Equal("Unreleased", unreleased.Groups["version"].Value);
        var insertAt = unreleased.Index + unreleased.Length;
        await File.WriteAllTextAsync(Changelog, text[..insertAt] + "\n\n### Fixed\n" + entry + text[insertAt..]);
        await Git.RunAsync(Root, "commit", "--quiet", "--message", "Changelog entry", "--", "CHANGELOG.md");
    }
}
