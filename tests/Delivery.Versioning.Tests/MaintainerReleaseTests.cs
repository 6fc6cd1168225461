using Delivery.Core;

namespace Delivery.Versioning.Tests;

public sealed class MaintainerReleaseTests : IAsyncLifetime
{
    static readonly DateOnly ReleaseDate = new(2025, 6, 1);

    const string ReleasedChangelog = """
        # Changelog

        ## [Unreleased]

        ## [1.0.0] - 2025-01-02

        ### Added
        - First release.

        [Unreleased]: https://github.com/acme/webapp/compare/1.0.0...HEAD
        [1.0.0]: https://github.com/acme/webapp/releases/tag/1.0.0

        """;

    static readonly string ChangelogWithEntries = ReleasedChangelog.Replace(
        "## [Unreleased]\n", "## [Unreleased]\n\n### Added\n- Release tagging from the build.\n");

    TempGitRepository origin = null!;
    TempGitRepository repo = null!;
    readonly List<string> log = [];

    public async Task InitializeAsync()
    {
        origin = await TempGitRepository.InitBareAsync();
        repo = await TempGitRepository.InitAsync();
        await repo.CommitAsync("Release 1.0.0", "CHANGELOG.md", ReleasedChangelog);
        await repo.AnnotatedTagAsync("1.0.0");
        await repo.CommitAsync("Add release tagging", "CHANGELOG.md", ChangelogWithEntries);
        await repo.GitAsync("remote", "add", "origin", origin.Path);
        await repo.GitAsync("push", "--quiet", "--set-upstream", "origin", "main", "1.0.0");
    }

    public Task DisposeAsync()
    {
        repo.Dispose();
        origin.Dispose();
        return Task.CompletedTask;
    }

    Task<ReleaseCut> CutAsync(string version = "1.1.0", bool push = false) =>
        MaintainerRelease.CutAsync(repo.Path, version, ReleaseDate, push, log.Add);

    sealed record RepositoryState(string Head, string Tags, string Changelog, string Status, string OriginRefs);

    async Task<RepositoryState> StateAsync() => new(
        await repo.HeadAsync(),
        await repo.GitAsync("tag", "--list"),
        await repo.ReadAsync("CHANGELOG.md"),
        await repo.GitAsync("status", "--porcelain"),
        await origin.GitAsync("for-each-ref", "--format=%(refname) %(objectname)"));

    async Task AssertRefusedAsync(string expectedMessage, string version = "1.1.0", bool push = false)
    {
        var before = await StateAsync();

        var error = await Assert.ThrowsAsync<DeliveryException>(() => CutAsync(version, push));

        Assert.Equal(expectedMessage, error.Message);
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task Cuts_a_release_commit_and_annotated_tag_and_prints_the_push_command()
    {
        var previousHead = await repo.HeadAsync();
        var originBefore = await origin.GitAsync("for-each-ref", "--format=%(refname) %(objectname)");

        var cut = await CutAsync();

        var head = await repo.HeadAsync();
        Assert.Equal(head, cut.CommitSha);
        Assert.Equal("1.1.0", cut.Tag);
        Assert.False(cut.Pushed);
        Assert.Equal("Release 1.1.0", await repo.GitAsync("log", "-1", "--format=%s"));
        Assert.Equal(previousHead, await repo.GitAsync("rev-parse", "HEAD~1"));
        Assert.Equal("CHANGELOG.md", await repo.GitAsync("show", "--format=", "--name-only", "HEAD"));
        Assert.Equal("", await repo.GitAsync("status", "--porcelain"));

        Assert.Equal("tag", await repo.GitAsync("cat-file", "-t", "1.1.0"));
        Assert.Equal(head, await repo.GitAsync("rev-parse", "1.1.0^{commit}"));
        const string section = "## [1.1.0] - 2025-06-01\n\n### Added\n- Release tagging from the build.";
        Assert.Equal(section, cut.TagMessage);
        Assert.Equal(section, await repo.GitAsync("tag", "--list", "--format=%(contents)", "1.1.0"));

        var changelog = await repo.ReadAsync("CHANGELOG.md");
        Assert.Contains("## [Unreleased]\n\n## [1.1.0] - 2025-06-01\n\n### Added\n- Release tagging from the build.\n\n## [1.0.0]", changelog);
        Assert.Contains("[Unreleased]: https://github.com/acme/webapp/compare/1.1.0...HEAD\n[1.1.0]: https://github.com/acme/webapp/compare/1.0.0...1.1.0\n", changelog);

        Assert.Equal("git push --atomic origin main 1.1.0", cut.PushCommand);
        Assert.Contains("To publish the release, run: git push --atomic origin main 1.1.0", log);
        Assert.Equal(originBefore, await origin.GitAsync("for-each-ref", "--format=%(refname) %(objectname)"));

        var version = await VersionCalculator.CalculateAsync(repo.Path, new VersionOptions { Environment = new Dictionary<string, string?>() });
        Assert.Equal("1.1.0", version.SemVer);
        Assert.True(version.IsRelease);
    }

    [Fact]
    public async Task With_push_main_and_the_tag_reach_origin_together()
    {
        await repo.CommitAsync("Unpushed work"); // ahead of the upstream is fine: the push carries it

        var cut = await CutAsync("2.0.0-rc.1", push: true);

        Assert.True(cut.Pushed);
        var head = await repo.HeadAsync();
        Assert.Equal(head, await origin.GitAsync("rev-parse", "refs/heads/main"));
        Assert.Equal(head, await origin.GitAsync("rev-parse", "refs/tags/2.0.0-rc.1^{commit}"));
        Assert.Equal("tag", await origin.GitAsync("cat-file", "-t", "refs/tags/2.0.0-rc.1"));
        Assert.Contains("Pushing: git push --atomic origin main 2.0.0-rc.1", log);
    }

    [Fact]
    public async Task A_rejected_push_keeps_the_local_release_and_says_how_to_retry()
    {
        var hook = Path.Combine(origin.Path, "hooks", "pre-receive");
        await File.WriteAllTextAsync(hook, "#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var originBefore = await origin.GitAsync("for-each-ref", "--format=%(refname) %(objectname)");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => CutAsync(push: true));

        Assert.StartsWith("Push failed (the release commit and tag 1.1.0 exist locally; fix the cause and run 'git push --atomic origin main 1.1.0'):", error.Message);
        Assert.Contains("branch is protected", error.Message);
        Assert.Equal("Release 1.1.0", await repo.GitAsync("log", "-1", "--format=%s"));
        Assert.Equal(await repo.HeadAsync(), await repo.GitAsync("rev-parse", "1.1.0^{commit}"));
        Assert.Equal(originBefore, await origin.GitAsync("for-each-ref", "--format=%(refname) %(objectname)"));
    }

    [Fact]
    public async Task Refuses_a_dirty_tree()
    {
        await repo.WriteAsync("CHANGELOG.md", ChangelogWithEntries + "- sneaky edit\n");

        await AssertRefusedAsync("The work tree has uncommitted changes (CHANGELOG.md); commit or stash them before releasing");
    }

    [Fact]
    public async Task Refuses_a_branch_other_than_main()
    {
        await repo.GitAsync("switch", "--quiet", "-c", "feature/x");

        await AssertRefusedAsync("HEAD is on branch 'feature/x'; releases are cut on 'main': run 'git switch main'");
    }

    [Fact]
    public async Task Refuses_a_detached_head()
    {
        await repo.GitAsync("switch", "--quiet", "--detach", "HEAD");

        await AssertRefusedAsync("HEAD is detached; releases are cut on 'main': run 'git switch main'");
    }

    [Fact]
    public async Task Refuses_when_main_is_behind_its_upstream()
    {
        using (var colleague = await TempGitRepository.CloneAsync(origin.Path))
        {
            await colleague.CommitAsync("Colleague's change");
            await colleague.GitAsync("push", "--quiet", "origin", "main");
        }
        await repo.GitAsync("fetch", "--quiet", "origin"); // the test's origin is a local path; the release itself never fetches

        await AssertRefusedAsync("'main' is 1 commit(s) behind 'origin/main'; pull (git pull --ff-only) before releasing");
    }

    [Theory]
    [InlineData("0.9.0")]
    [InlineData("1.0.0-rc.2")]
    public async Task Refuses_a_version_not_greater_than_the_last_release_tag(string version)
    {
        await AssertRefusedAsync($"Version {version} is not greater than the last release tag 1.0.0; pick a higher version", version);
    }

    [Fact]
    public async Task The_last_release_tag_is_the_highest_version_tag_whatever_its_prefix()
    {
        await repo.TagAsync("v1.2.0", "HEAD~1");
        await repo.TagAsync("nightly");

        await AssertRefusedAsync("Version 1.1.0 is not greater than the last release tag v1.2.0; pick a higher version");
    }

    [Theory]
    [InlineData("1.0.0", "1.0.0")]
    [InlineData("1.1.0", "v1.1.0")]
    public async Task Refuses_an_existing_tag(string version, string existing)
    {
        if (existing != "1.0.0") await repo.TagAsync(existing, "HEAD~1");

        await AssertRefusedAsync($"Tag {existing} already exists; pick another version", version);
    }

    [Fact]
    public async Task Refuses_an_empty_unreleased_section()
    {
        await repo.CommitAsync("Drop entries", "CHANGELOG.md", ReleasedChangelog);

        await AssertRefusedAsync("CHANGELOG.md's [Unreleased] section has no entries; add at least one '- ' line describing the change before releasing");
    }

    [Fact]
    public async Task Refuses_a_repository_without_a_changelog()
    {
        await repo.GitAsync("rm", "--quiet", "CHANGELOG.md");
        await repo.GitAsync("commit", "--quiet", "--message", "Remove changelog");

        var before = await repo.HeadAsync();
        var error = await Assert.ThrowsAsync<DeliveryException>(() => CutAsync());

        Assert.Equal($"There is no CHANGELOG.md at the repository root '{repo.Path}'; releases take their notes from it", error.Message);
        Assert.Equal(before, await repo.HeadAsync());
        Assert.Equal("1.0.0", await repo.GitAsync("tag", "--list"));
    }

    [Fact]
    public async Task Refuses_an_untracked_changelog()
    {
        await repo.GitAsync("rm", "--quiet", "--cached", "CHANGELOG.md");
        await repo.GitAsync("commit", "--quiet", "--message", "Untrack changelog");

        await AssertRefusedAsync("CHANGELOG.md is not tracked by git; commit it before releasing");
    }

    [Theory]
    [InlineData("v1.1.0", "Release version 'v1.1.0' is not a valid SemVer 2.0 version (e.g. 1.2.3 or 1.2.3-rc.1, no 'v' prefix)")]
    [InlineData("1.1", "Release version '1.1' is not a valid SemVer 2.0 version (e.g. 1.2.3 or 1.2.3-rc.1, no 'v' prefix)")]
    [InlineData("1.1.0+build.5", "Release version '1.1.0+build.5' has build metadata; tag the version alone (e.g. 1.1.0)")]
    [InlineData("", "A release needs a version, e.g. --release-version 1.2.3")]
    public async Task Refuses_an_invalid_version(string version, string expected)
    {
        await AssertRefusedAsync(expected, version);
    }

    [Fact]
    public async Task Refuses_to_push_without_an_origin_remote()
    {
        await repo.GitAsync("branch", "--quiet", "--unset-upstream");
        await repo.GitAsync("remote", "remove", "origin");

        await AssertRefusedAsync("Cannot push: this repository has no 'origin' remote; add it, or release without --push", push: true);
    }

    [Fact]
    public async Task Refuses_a_directory_outside_git()
    {
        var plain = TempGitRepository.NewTempDirectory();
        try
        {
            var error = await Assert.ThrowsAsync<DeliveryException>(() =>
                MaintainerRelease.CutAsync(plain, "1.1.0", ReleaseDate, push: false, log.Add));

            Assert.Equal($"'{plain}' is not inside a git repository; releases are cut from a clone of the repository", error.Message);
        }
        finally
        {
            Directory.Delete(plain, recursive: true);
        }
    }

    [Fact]
    public async Task A_failing_commit_restores_the_changelog()
    {
        var hook = Path.Combine(repo.Path, ".git", "hooks", "pre-commit");
        await File.WriteAllTextAsync(hook, "#!/bin/sh\necho 'lint failed' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await AssertRefusedAsync("Committing the release failed (the changelog was restored): lint failed");
    }

    [Fact]
    public async Task A_failing_tag_undoes_the_release_commit()
    {
        // A ref below refs/tags/1.1.0/ is not a version tag, so the checks pass, but it blocks creating refs/tags/1.1.0.
        await repo.GitAsync("update-ref", "refs/tags/1.1.0/blocker", "HEAD");
        var before = await StateAsync();

        var error = await Assert.ThrowsAsync<DeliveryException>(() => CutAsync());

        Assert.StartsWith("Tagging 1.1.0 failed and the release commit was undone:", error.Message);
        Assert.Equal(before, await StateAsync());
    }
}
