using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>Versions from git tags, through ./build.sh Version, in the clone (which starts without tags).</summary>
[Collection(CloneCollection.Name)]
public sealed class VersionFromTagsTests(CloneFixture clone) : CloneTests(clone)
{
    async Task<string?> VersionAsync(params string[] extra)
    {
        var run = await Clone.BuildAsync(["Version", .. extra]);
        BuildAssert.Succeeded(run);
        Assert.Equal("Succeeded", run.SummaryStatus("Version"));
        return run.SummaryNote("Version");
    }

    [Fact]
    public async Task Without_tags_the_version_is_zero_alpha_at_the_height_from_the_first_commit()
    {
        // MinVer's height is the distance to the root along the path it walks first: first parents (merges add no height).
        var commits = int.Parse(await Git.RunAsync(Root, "rev-list", "--first-parent", "--count", "HEAD"));

        Assert.Equal($"Version: 0.0.0-alpha.0.{commits - 1}", await VersionAsync());
    }

    [Fact]
    public async Task A_tag_on_HEAD_is_the_version()
    {
        await Git.RunAsync(Root, "tag", "1.2.3");

        Assert.Equal("Version: 1.2.3", await VersionAsync());
    }

    [Fact]
    public async Task One_commit_after_a_release_tag_is_the_next_patch_alpha_at_height_one()
    {
        await Git.RunAsync(Root, "tag", "1.2.3");
        await Clone.CommitAsync("After the release");

        Assert.Equal("Version: 1.2.4-alpha.0.1", await VersionAsync());
    }

    [Fact]
    public async Task Commits_after_a_prerelease_tag_extend_it_with_the_height()
    {
        await Git.RunAsync(Root, "tag", "--annotate", "--message", "rc", "1.2.3-rc.1");
        await Clone.CommitAsync("One");
        await Clone.CommitAsync("Two");

        Assert.Equal("Version: 1.2.3-rc.1.2", await VersionAsync());
    }

    [Fact]
    public async Task The_override_wins_over_the_tags()
    {
        await Git.RunAsync(Root, "tag", "1.2.3");

        Assert.Equal("Version: 4.5.6-beta.1", await VersionAsync("--version-override", "4.5.6-beta.1"));
    }
}

/// <summary>A shallow clone cannot know its version; --version-override is the way out.</summary>
[Collection(ShallowCloneCollection.Name)]
public sealed class ShallowCloneVersionTests(ShallowCloneFixture clone)
{
    [Fact]
    public async Task Version_fails_in_one_line_that_asks_for_full_history_or_an_override()
    {
        var run = await BuildScript.RunAsync(clone.Root, "Version");

        var message = BuildAssert.TargetFailure(run, "Version");
        Assert.Contains("shallow clone", message);
        Assert.Contains("full history", message);
        Assert.Contains("git fetch --unshallow", message);
        Assert.Contains("--version-override", message);
    }

    [Fact]
    public async Task The_override_on_the_command_line_gives_the_version()
    {
        var run = await BuildScript.RunAsync(clone.Root, "Version", "--version-override", "9.9.9");

        BuildAssert.Succeeded(run);
        Assert.Equal("Version: 9.9.9", run.SummaryNote("Version"));
    }

    [Fact]
    public async Task The_override_from_the_environment_gives_the_version()
    {
        var run = await BuildScript.RunAsync(clone.Root, ["Version"], new Dictionary<string, string?> { ["VERSION_OVERRIDE"] = "9.9.10" });

        BuildAssert.Succeeded(run);
        Assert.Equal("Version: 9.9.10", run.SummaryNote("Version"));
    }

    [Fact]
    public async Task An_override_that_is_not_a_version_is_refused()
    {
        var run = await BuildScript.RunAsync(clone.Root, "Version", "--version-override", "next");

        var message = BuildAssert.TargetFailure(run, "Version");
        Assert.Contains("'next'", message);
    }
}
