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
