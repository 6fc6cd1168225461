using Delivery.Core;

namespace Delivery.Versioning.Tests;

public sealed class VersionCalculatorTests : IAsyncLifetime
{
    // No CI variables unless a test sets them, whatever the machine running the tests has.
    static readonly VersionOptions Defaults = new() { Environment = new Dictionary<string, string?>() };

    TempGitRepository repo = null!;

    public async Task InitializeAsync() => repo = await TempGitRepository.InitAsync();

    public Task DisposeAsync()
    {
        repo.Dispose();
        return Task.CompletedTask;
    }

    Task<VersionInfo> CalculateAsync(VersionOptions? options = null) => VersionCalculator.CalculateAsync(repo.Path, options ?? Defaults);

    [Fact]
    public async Task Tagged_head_is_that_version_and_a_release()
    {
        await repo.CommitsAsync(2);
        var head = await repo.HeadAsync();
        await repo.TagAsync("1.2.3");

        var version = await CalculateAsync();

        Assert.Equal("1.2.3", version.SemVer);
        Assert.Equal(0, version.Height);
        Assert.Equal(head, version.Sha);
        Assert.Equal(head[..7], version.ShortSha);
        Assert.Equal($"1.2.3+{head[..7]}", version.FullSemVer);
        Assert.Equal($"1.2.3+{head}", version.InformationalVersion);
        Assert.Equal("1.0.0.0", version.AssemblyVersion);
        Assert.Equal("1.2.3.0", version.FileVersion);
        Assert.Equal((1, 2, 3), (version.Major, version.Minor, version.Patch));
        Assert.Equal("", version.PreRelease);
        Assert.Equal("1.2.3", version.Tag);
        Assert.Equal("main", version.BranchName);
        Assert.True(version.IsRelease);
        Assert.False(version.IsDirty);
        Assert.Equal("1.2.3", version.MSBuildProperties["Version"]);
        Assert.Equal(head, version.MSBuildProperties["SourceRevisionId"]);
    }

    [Fact]
    public async Task Commits_after_a_release_tag_bump_the_patch_and_add_alpha_and_height()
    {
        await repo.CommitAsync("release");
        await repo.TagAsync("1.2.3");
        await repo.CommitsAsync(3);

        var version = await CalculateAsync();

        Assert.Equal("1.2.4-alpha.0.3", version.SemVer);
        Assert.Equal(3, version.Height);
        Assert.Equal("alpha.0.3", version.PreRelease);
        Assert.Equal("1.2.4.0", version.FileVersion);
        Assert.False(version.IsRelease);
    }

    [Theory]
    [InlineData(VersionPart.Patch, "alpha.0", "1.2.4-alpha.0.2")]
    [InlineData(VersionPart.Minor, "alpha.0", "1.3.0-alpha.0.2")]
    [InlineData(VersionPart.Major, "alpha.0", "2.0.0-alpha.0.2")]
    [InlineData(VersionPart.Minor, "preview.0", "1.3.0-preview.0.2")]
    [InlineData(VersionPart.Patch, "beta", "1.2.4-beta.2")]
    public async Task Auto_increment_and_default_pre_release_are_configurable(VersionPart part, string identifiers, string expected)
    {
        await repo.CommitAsync("release");
        await repo.TagAsync("1.2.3");
        await repo.CommitsAsync(2);

        var version = await CalculateAsync(Defaults with { AutoIncrement = part, DefaultPreReleaseIdentifiers = identifiers });

        Assert.Equal(expected, version.SemVer);
    }

    [Fact]
    public async Task A_pre_release_tag_keeps_its_identifiers_and_appends_the_height()
    {
        await repo.CommitAsync("candidate");
        await repo.TagAsync("1.2.3-rc.1");

        var onTag = await CalculateAsync();
        await repo.CommitsAsync(2);
        var after = await CalculateAsync();

        Assert.Equal("1.2.3-rc.1", onTag.SemVer);
        Assert.False(onTag.IsRelease);
        Assert.Equal("1.2.3-rc.1.2", after.SemVer);
        Assert.Equal(2, after.Height);
    }

    [Fact]
    public async Task Without_tags_the_version_is_the_default_with_the_height_from_the_root_commit()
    {
        await repo.CommitAsync("root");
        var root = await CalculateAsync();
        await repo.CommitsAsync(4);
        var later = await CalculateAsync();

        // MinVer: the root commit itself has height 0, and a height of 0 is not appended.
        Assert.Equal("0.0.0-alpha.0", root.SemVer);
        Assert.Equal(0, root.Height);
        Assert.Null(root.Tag);
        Assert.False(root.IsRelease);
        Assert.Equal("0.0.0-alpha.0.4", later.SemVer);
        Assert.Equal(4, later.Height);
        Assert.Equal("0.0.0.0", later.FileVersion);
    }

    [Fact]
    public async Task Several_tags_on_one_commit_the_highest_wins()
    {
        await repo.CommitAsync("release");
        await repo.TagAsync("1.0.5");
        await repo.TagAsync("1.1.0-rc.1");
        await repo.TagAsync("1.1.0");
        await repo.TagAsync("1.0.9");

        var onTags = await CalculateAsync();
        await repo.CommitAsync("fix");
        var after = await CalculateAsync();

        Assert.Equal("1.1.0", onTags.SemVer);
        Assert.Equal("1.1.0", onTags.Tag);
        Assert.True(onTags.IsRelease);
        Assert.Equal("1.1.1-alpha.0.1", after.SemVer);
    }

    [Fact]
    public async Task The_nearest_tag_on_a_path_hides_older_ones_even_if_higher()
    {
        // MinVer walks until the first tagged commit on each path: an older, higher tag further down is not a candidate.
        await repo.CommitAsync("old");
        await repo.TagAsync("5.0.0");
        await repo.CommitAsync("newer");
        await repo.TagAsync("1.0.0");
        await repo.CommitAsync("head");

        var version = await CalculateAsync();

        Assert.Equal("1.0.1-alpha.0.1", version.SemVer);
    }

    [Fact]
    public async Task A_higher_tag_on_a_merged_branch_wins_with_that_paths_height()
    {
        await repo.CommitAsync("base");
        await repo.TagAsync("1.0.0");
        await repo.GitAsync("switch", "--quiet", "-c", "feature");
        await repo.CommitAsync("feature work");
        await repo.TagAsync("2.0.0-beta.1");
        await repo.GitAsync("switch", "--quiet", "main");
        await repo.CommitsAsync(2, "main work");
        await repo.GitAsync("merge", "--quiet", "--no-ff", "--no-edit", "feature");

        var version = await CalculateAsync();

        // Candidates: 1.0.0 at height 3 (first parent's path) and 2.0.0-beta.1 at height 1 (the merged parent).
        Assert.Equal("2.0.0-beta.1.1", version.SemVer);
        Assert.Equal("2.0.0-beta.1", version.Tag);
        Assert.Equal(1, version.Height);
    }

    [Fact]
    public async Task A_lower_tag_on_a_merged_branch_loses_to_the_first_parents_tag()
    {
        await repo.CommitAsync("base");
        await repo.GitAsync("switch", "--quiet", "-c", "hotfix");
        await repo.CommitAsync("hotfix work");
        await repo.TagAsync("0.9.1");
        await repo.GitAsync("switch", "--quiet", "main");
        await repo.CommitAsync("main work");
        await repo.TagAsync("1.1.0");
        await repo.GitAsync("merge", "--quiet", "--no-ff", "--no-edit", "hotfix");

        var version = await CalculateAsync();

        Assert.Equal("1.1.1-alpha.0.1", version.SemVer);
        Assert.Equal("1.1.0", version.Tag);
    }

    [Fact]
    public async Task When_paths_converge_the_first_parents_height_is_used()
    {
        await repo.CommitAsync("release");
        await repo.TagAsync("1.0.0");
        await repo.GitAsync("switch", "--quiet", "-c", "feature");
        await repo.CommitsAsync(5, "feature work");
        await repo.GitAsync("switch", "--quiet", "main");
        await repo.CommitAsync("main work");
        await repo.GitAsync("merge", "--quiet", "--no-ff", "--no-edit", "feature");

        var version = await CalculateAsync();

        // First-parent path: merge → main work → 1.0.0 is 2 commits; via the feature branch it would be 6.
        Assert.Equal("1.0.1-alpha.0.2", version.SemVer);
        Assert.Equal(2, version.Height);
    }

    [Fact]
    public async Task Without_a_prefix_v_tags_are_not_versions_as_in_MinVer()
    {
        await repo.CommitAsync("one");
        await repo.TagAsync("v1.2.3");

        var unprefixed = await CalculateAsync();
        var prefixed = await CalculateAsync(Defaults with { TagPrefix = "v" });

        Assert.Equal("0.0.0-alpha.0", unprefixed.SemVer);
        Assert.Null(unprefixed.Tag);
        Assert.False(unprefixed.IsRelease);
        Assert.Equal("1.2.3", prefixed.SemVer);
        Assert.Equal("v1.2.3", prefixed.Tag);
        Assert.True(prefixed.IsRelease);
    }

    [Fact]
    public async Task An_explicit_v_prefix_ignores_unprefixed_tags()
    {
        await repo.CommitAsync("one");
        await repo.TagAsync("v1.0.0");
        await repo.CommitAsync("two");
        await repo.TagAsync("2.0.0");

        var version = await CalculateAsync(Defaults with { TagPrefix = "v" });

        Assert.Equal("1.0.1-alpha.0.1", version.SemVer);
        Assert.Equal("v1.0.0", version.Tag);
    }

    [Fact]
    public async Task A_custom_prefix_accepts_only_its_own_tags()
    {
        await repo.CommitAsync("one");
        await repo.TagAsync("webapp-3.1.0");
        await repo.CommitAsync("two");
        await repo.TagAsync("v9.0.0");
        await repo.TagAsync("worker-8.0.0");

        var version = await CalculateAsync(Defaults with { TagPrefix = "webapp-" });

        Assert.Equal("3.1.1-alpha.0.1", version.SemVer);
        Assert.Equal("webapp-3.1.0", version.Tag);
    }

    [Fact]
    public async Task Non_version_tags_are_ignored()
    {
        await repo.CommitAsync("one");
        await repo.TagAsync("1.0.0");
        await repo.CommitAsync("two");
        foreach (var tag in new[] { "latest", "release", "1.2", "v1.2.3.4", "1.2.3-01", "01.2.3", "x1.2.3", "deploy/1.5.0" })
            await repo.TagAsync(tag);

        var version = await CalculateAsync();

        Assert.Equal("1.0.1-alpha.0.1", version.SemVer);
        Assert.Equal("1.0.0", version.Tag);
    }

    [Fact]
    public async Task Annotated_and_lightweight_tags_both_count()
    {
        await repo.CommitAsync("one");
        await repo.AnnotatedTagAsync("1.0.0");
        await repo.CommitAsync("two");
        var annotated = await CalculateAsync();
        await repo.TagAsync("1.1.0");
        var lightweight = await CalculateAsync();
        await repo.CommitAsync("three");
        await repo.AnnotatedTagAsync("1.2.0-rc.1");
        var annotatedOnHead = await CalculateAsync();

        Assert.Equal("1.0.1-alpha.0.1", annotated.SemVer);
        Assert.Equal("1.1.0", lightweight.SemVer);
        Assert.Equal("1.2.0-rc.1", annotatedOnHead.SemVer);
        Assert.Equal(await repo.HeadAsync(), annotatedOnHead.Sha); // the commit, not the tag object
    }

    [Fact]
    public async Task Build_metadata_of_a_tag_on_head_is_kept_and_dropped_after_it()
    {
        await repo.CommitAsync("one");
        await repo.TagAsync("1.2.3+ci.42");
        var head = await repo.HeadAsync();

        var version = await CalculateAsync();
        await repo.CommitAsync("two");
        var after = await CalculateAsync();

        Assert.Equal("1.2.3+ci.42", version.SemVer);
        Assert.Equal($"1.2.3+ci.42.{head[..7]}", version.FullSemVer);
        Assert.Equal($"1.2.3+ci.42.{head}", version.InformationalVersion);
        Assert.Equal("1.2.3.0", version.FileVersion);
        Assert.True(version.IsRelease);
        Assert.Equal("1.2.4-alpha.0.1", after.SemVer);
    }

    [Fact]
    public async Task An_annotated_tag_of_an_annotated_tag_is_followed_to_its_commit()
    {
        await repo.CommitAsync("one");
        await repo.AnnotatedTagAsync("1.0.0");
        await repo.GitAsync("tag", "--annotate", "--message", "nested", "2.0.0", "1.0.0");

        var version = await CalculateAsync();

        Assert.Equal("2.0.0", version.SemVer);
        Assert.Equal("2.0.0", version.Tag);
        Assert.True(version.IsRelease);
    }

    [Fact]
    public async Task Changes_to_tracked_files_make_it_dirty_but_untracked_files_do_not()
    {
        await repo.CommitAsync("one", "app.txt", "v1\n");
        await repo.TagAsync("1.0.0");
        await repo.WriteAsync("untracked.txt", "scratch\n");
        var withUntracked = await CalculateAsync();
        await repo.WriteAsync("app.txt", "v2\n");
        var modified = await CalculateAsync();
        await repo.GitAsync("add", "app.txt");
        var staged = await CalculateAsync();

        Assert.False(withUntracked.IsDirty);
        Assert.True(modified.IsDirty);
        Assert.True(staged.IsDirty);
        Assert.Equal("1.0.0", modified.SemVer);
    }

    [Fact]
    public async Task A_shallow_clone_fails_loudly()
    {
        await repo.CommitsAsync(3);
        await repo.TagAsync("1.0.0", "HEAD~2");
        using var shallow = await TempGitRepository.CloneAsync("file://" + repo.Path, "--depth", "1");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => VersionCalculator.CalculateAsync(shallow.Path, Defaults));

        Assert.Equal(
            "This is a shallow clone; versions need full history: run 'git fetch --unshallow --tags' (or checkout with fetch-depth: 0), or pass --version-override",
            error.Message);
    }

    [Fact]
    public async Task Detached_head_has_no_branch_unless_ci_names_it()
    {
        await repo.CommitAsync("one");
        await repo.TagAsync("1.0.0");
        await repo.CommitAsync("two");
        await repo.GitAsync("switch", "--quiet", "--detach", "HEAD");

        var local = await CalculateAsync();
        var push = await CalculateAsync(Defaults with { Environment = new Dictionary<string, string?> { ["GITHUB_REF_NAME"] = "main", ["GITHUB_REF_TYPE"] = "branch" } });
        var pullRequest = await CalculateAsync(Defaults with { Environment = new Dictionary<string, string?> { ["GITHUB_REF_NAME"] = "7/merge", ["GITHUB_HEAD_REF"] = "feature/login" } });
        var tagBuild = await CalculateAsync(Defaults with { Environment = new Dictionary<string, string?> { ["GITHUB_REF_NAME"] = "1.0.0", ["GITHUB_REF_TYPE"] = "tag" } });

        Assert.Null(local.BranchName);
        Assert.Equal("1.0.1-alpha.0.1", local.SemVer);
        Assert.Equal("main", push.BranchName);
        Assert.Equal("feature/login", pullRequest.BranchName);
        Assert.Null(tagBuild.BranchName);
    }

    [Fact]
    public async Task Works_from_a_subdirectory_of_the_work_tree()
    {
        await repo.CommitAsync("one", "src/app.txt");
        await repo.TagAsync("2.0.0");

        var version = await VersionCalculator.CalculateAsync(Path.Combine(repo.Path, "src"), Defaults);

        Assert.Equal("2.0.0", version.SemVer);
    }

    [Fact]
    public async Task An_override_bypasses_git()
    {
        var notARepository = TempGitRepository.NewTempDirectory();
        try
        {
            var version = await VersionCalculator.CalculateAsync(notARepository, Defaults with { Override = "3.4.5-rc.2+tarball" });

            // Used as is, build metadata included, as MinVer's MinVerVersionOverride is.
            Assert.Equal("3.4.5-rc.2+tarball", version.SemVer);
            Assert.Equal("unknown", version.Sha);
            Assert.Equal("3.4.5-rc.2+tarball.unknown", version.FullSemVer);
            Assert.Equal("3.4.5-rc.2+tarball.unknown", version.InformationalVersion);
            Assert.Equal("3.0.0.0", version.AssemblyVersion);
            Assert.False(version.IsRelease);
            Assert.Null(version.Tag);
            Assert.True((await VersionCalculator.CalculateAsync(notARepository, Defaults with { Override = "3.4.5" })).IsRelease);
        }
        finally
        {
            Directory.Delete(notARepository, recursive: true);
        }
    }

    [Fact]
    public async Task An_override_in_a_repository_keeps_the_real_commit()
    {
        await repo.CommitAsync("one");
        var version = await CalculateAsync(Defaults with { Override = "7.7.7" });

        Assert.Equal("7.7.7", version.SemVer);
        Assert.Equal(await repo.HeadAsync(), version.Sha);
        Assert.Equal($"7.7.7+{version.Sha[..7]}", version.FullSemVer);
        Assert.True(version.IsRelease);
    }

    [Theory]
    [InlineData("v1.2.3")]
    [InlineData("1.2")]
    [InlineData("latest")]
    public async Task An_invalid_override_is_refused(string text)
    {
        var error = await Assert.ThrowsAsync<DeliveryException>(() => CalculateAsync(Defaults with { Override = text }));

        Assert.Equal($"Version override '{text}' is not a valid SemVer 2.0 version (e.g. 1.2.3 or 1.2.3-rc.1)", error.Message);
    }

    [Fact]
    public async Task Invalid_default_pre_release_identifiers_are_refused()
    {
        await repo.CommitAsync("one");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => CalculateAsync(Defaults with { DefaultPreReleaseIdentifiers = "alpha..0" }));

        Assert.Contains("'alpha..0' are not valid SemVer", error.Message);
    }

    [Fact]
    public async Task A_directory_outside_git_is_a_clear_error()
    {
        var plain = TempGitRepository.NewTempDirectory();
        try
        {
            var error = await Assert.ThrowsAsync<DeliveryException>(() => VersionCalculator.CalculateAsync(plain, Defaults));

            Assert.Equal($"'{plain}' is not inside a git repository; run from a clone, or pass --version-override", error.Message);
        }
        finally
        {
            Directory.Delete(plain, recursive: true);
        }
    }

    [Fact]
    public async Task A_repository_without_commits_gets_the_default_version_with_a_warning()
    {
        var version = await CalculateAsync();

        Assert.Equal("0.0.0-alpha.0", version.SemVer);
        Assert.Equal(0, version.Height);
        Assert.Equal("unknown", version.Sha);
        Assert.False(version.IsRelease);
        var warning = Assert.Single(version.Warnings);
        Assert.Equal($"The git repository at '{await repo.GitAsync("rev-parse", "--show-toplevel")}' has no commits yet; the version is 0.0.0-alpha.0 until the first commit", warning);
    }

    [Fact]
    public async Task A_missing_directory_is_a_clear_error()
    {
        var missing = Path.Combine(repo.Path, "does-not-exist");

        var error = await Assert.ThrowsAsync<DeliveryException>(() => VersionCalculator.CalculateAsync(missing, Defaults));

        Assert.Equal($"Directory '{missing}' does not exist", error.Message);
    }
}
