namespace EndToEnd.Tests.Infrastructure;

/// <summary>
/// One full clone of this repository (its committed HEAD, full history; uncommitted changes are not in it) with a bare repository as <c>origin</c>, shared
/// by every test class in <see cref="CloneCollection"/>. Its first <c>./build.sh</c> reuses the compiled <c>_build</c>
/// when it can (<see cref="CompiledBuild"/>); <see cref="ResetAsync"/> puts the clone back to its first state before
/// each test, keeping that compiled build (<c>.nuke/temp</c>).
/// </summary>
public sealed class CloneFixture : IAsyncLifetime
{
    string? directory;

    public string Root => Path.Combine(directory!, "repo");
    public string Origin => Path.Combine(directory!, "origin.git");

    /// <summary>HEAD of the clone after setup; every test starts here, on main, with no tags.</summary>
    public string BaseCommit { get; private set; } = "";

    public async Task InitializeAsync()
    {
        directory = Repository.NewTempDirectory("clone");
        await Git.RunAsync(directory, "clone", "--quiet", Repository.Root, Root);
        await Git.RunAsync(Root, "checkout", "--quiet", "-B", "main");
        await ConfigureIdentityAsync(Root);
        await DeleteTagsAsync();
        await Git.RunAsync(directory, "-c", "init.defaultBranch=main", "init", "--quiet", "--bare", Origin);
        await Git.RunAsync(Root, "remote", "set-url", "origin", Origin);
        await Git.RunAsync(Root, "push", "--quiet", "--set-upstream", "origin", "main");
        await Git.RunAsync(Root, "fetch", "--quiet", "--prune", "origin");
        BaseCommit = await Git.HeadAsync(Root);

        var warmUp = await CompiledBuild.WarmUpAsync(Root, ["Version"]);
        if (warmUp.ExitCode != 0) throw new InvalidOperationException($"The first build in the clone failed.\n{warmUp}");
    }

    public static async Task ConfigureIdentityAsync(string root)
    {
        await Git.RunAsync(root, "config", "user.name", "End To End");
        await Git.RunAsync(root, "config", "user.email", "e2e@example.test");
        await Git.RunAsync(root, "config", "commit.gpgsign", "false");
        await Git.RunAsync(root, "config", "tag.gpgsign", "false");
    }

    /// <summary>Back to <see cref="BaseCommit"/> on main: no other branches, no tags, no untracked or ignored files
    /// except the compiled build, and origin mirroring it.</summary>
    public async Task ResetAsync()
    {
        await Git.RunAsync(Root, "checkout", "--quiet", "--force", "-B", "main", BaseCommit);
        await Git.RunAsync(Root, "clean", "--quiet", "-fdx", "-e", ".nuke/temp");
        foreach (var branch in await Git.LinesAsync(Root, "for-each-ref", "--format=%(refname:short)", "refs/heads/"))
            if (branch != "main") await Git.RunAsync(Root, "branch", "--quiet", "-D", branch);
        await DeleteTagsAsync();
        await Git.RunAsync(Root, "push", "--quiet", "--force", "--prune", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*");
        Assert.Equal("", await Git.PorcelainAsync(Root));
    }

    async Task DeleteTagsAsync()
    {
        var tags = await Git.LinesAsync(Root, "tag", "--list");
        if (tags.Count > 0) await Git.RunAsync(Root, ["tag", "--delete", .. tags]);
    }

    /// <summary>An empty commit on the current branch.</summary>
    public Task CommitAsync(string message) => Git.RunAsync(Root, "commit", "--quiet", "--allow-empty", "--message", message);

    public Task<BuildRun> BuildAsync(params string[] arguments) => BuildScript.RunAsync(Root, arguments);

    public Task<BuildRun> BuildAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        BuildScript.RunAsync(Root, arguments, environment);

    public Task DisposeAsync()
    {
        if (directory is not null) Repository.DeleteDirectory(directory);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class CloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone";
}

/// <summary>A full clone of its own, so the fleet operations (long, mostly waiting on their fake instances) run beside
/// the tests of the other clones instead of after them.</summary>
[CollectionDefinition(Name)]
public sealed class FleetCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for fleet operations";
}

/// <summary>A full clone of its own for maintenance and verify-rollback on a fleet. With the release phase, these were
/// one collection and the longest chain of the run (331 s of 423 s at f471397, the signal tests after it); a clone
/// costs a clone and a warm-up that reuses the compiled build (about 20 s).</summary>
[CollectionDefinition(Name)]
public sealed class FleetOperatorCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for fleet operator features";
}

/// <summary>A full clone of its own for the release phase on a fleet, beside <see cref="FleetOperatorCloneCollection"/>.</summary>
[CollectionDefinition(Name)]
public sealed class FleetReleasePhaseCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for the fleet release phase";
}

/// <summary>A clone for the signal tests, which run alone once the parallel collections are done: GitHub gives a
/// cancelled step 7.5 s before SIGTERM, a real-time budget that eight tests at once on two cores would eat.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SignalCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for the signal tests, run alone";
}

/// <summary>Another full clone, so the fleet deploys run beside the fleet operations.</summary>
[CollectionDefinition(Name)]
public sealed class FleetDeployCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for fleet deploys";
}

/// <summary>Another full clone, so fleet logs, teardown and a failed rollback run beside the other fleet operations.</summary>
[CollectionDefinition(Name)]
public sealed class FleetTeardownCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for fleet teardown";
}

/// <summary>Another full clone for the tests that publish, build and push images, beside the many short runs of
/// <see cref="CloneCollection"/>; the one image build they check is <see cref="ExportedImage"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ImageCloneCollection : ICollectionFixture<CloneFixture>, ICollectionFixture<ExportedImage>
{
    public const string Name = "Full clone for images";
}

/// <summary>Another full clone for deploys to instances that behave as the SSM agent does.</summary>
[CollectionDefinition(Name)]
public sealed class AgentCloneCollection : ICollectionFixture<CloneFixture>
{
    public const string Name = "Full clone for agent semantics";
}

/// <summary>Base of the test classes that use the shared clone: resets it before each test.</summary>
public abstract class CloneTests(CloneFixture clone) : IAsyncLifetime
{
    protected CloneFixture Clone { get; } = clone;

    protected string Root => Clone.Root;

    public Task InitializeAsync() => Clone.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The push's hand-off (artifacts/image.json) for <paramref name="release"/>, so a deploy with --skip takes it.
    /// Written by the push's own writer, so its checks (ImageManifest.Validate) apply to the test's values too.</summary>
    protected Task WriteImageAsync(Delivery.Hosts.PinnedImage release) =>
        new Delivery.Docker.ImageManifest(release.Repository, [release.Version], release.Digest, release.Version, release.Commit ?? "", DateTimeOffset.UtcNow)
            .WriteAsync(Path.Combine(Root, Delivery.Docker.ImageManifest.DefaultPath));
}

/// <summary>A shallow clone (<c>git clone --depth 1</c>), as CI checkouts are by default.</summary>
public sealed class ShallowCloneFixture : IAsyncLifetime
{
    string? directory;

    public string Root => Path.Combine(directory!, "repo");

    public async Task InitializeAsync()
    {
        directory = Repository.NewTempDirectory("shallow");
        await Git.RunAsync(directory, "clone", "--quiet", "--depth", "1", new Uri(Repository.Root).AbsoluteUri, Root);
        await CloneFixture.ConfigureIdentityAsync(Root);
        Assert.Equal("true", await Git.RunAsync(Root, "rev-parse", "--is-shallow-repository"));
        var warmUp = await CompiledBuild.WarmUpAsync(Root, ["--help"]);
        if (warmUp.ExitCode != 0) throw new InvalidOperationException($"The first build in the shallow clone failed.\n{warmUp}");
    }

    public Task DisposeAsync()
    {
        if (directory is not null) Repository.DeleteDirectory(directory);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ShallowCloneCollection : ICollectionFixture<ShallowCloneFixture>
{
    public const string Name = "Shallow clone";
}

/// <summary>
/// Compiling <c>_build</c> is the slow part of a clone's first <c>./build.sh</c>, and every clone here is of one commit:
/// each clone gets a copy of a compiled build (<c>.nuke/temp</c>: _build's output folder and the stamp of its inputs),
/// from the first clone that ran, else from the repository under test. build.sh still decides: it runs the copy only
/// when the stamp matches the clone's own inputs (a hash of their contents and names relative to the root), and
/// compiles as in any fresh clone otherwise (say the work tree has uncommitted changes to build/).
/// </summary>
public static class CompiledBuild
{
    static readonly SemaphoreSlim OneAtATime = new(1, 1);
    static string? compiledIn;

    const string Output = ".nuke/temp/artifacts/bin/_build";
    const string Stamp = ".nuke/temp/build.stamp";

    /// <summary>Copies a compiled build into <paramref name="root"/>, then runs its first <c>./build.sh</c>.</summary>
    public static async Task<BuildRun> WarmUpAsync(string root, string[] arguments)
    {
        await OneAtATime.WaitAsync();
        try
        {
            if (compiledIn is null || !TryCopy(compiledIn, root)) TryCopy(Repository.Root, root);
            var run = await BuildScript.RunAsync(root, arguments, limit: BuildScript.FirstBuildTimeout);
            if (run.ExitCode == 0) compiledIn = root;
            return run;
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    static bool TryCopy(string from, string to)
    {
        var output = Path.Combine(from, Output);
        var stamp = Path.Combine(from, Stamp);
        if (!Directory.Exists(output) || !File.Exists(stamp)) return false;
        var copied = Path.Combine(to, ".nuke", "temp");
        try
        {
            var before = File.ReadAllText(stamp);
            foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(to, Output, Path.GetRelativePath(output, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
            // build.sh deletes the stamp before it compiles and writes it after: the same stamp before and after the
            // copy means no compile ran in between.
            if (File.ReadAllText(stamp) != before) throw new IOException($"{stamp} changed during the copy");
            File.WriteAllText(Path.Combine(to, Stamp), before);
            return true;
        }
        catch (IOException)
        {
            // A compile or the other clone's cleanup meanwhile: no copy, so build.sh compiles.
            if (Directory.Exists(copied)) Directory.Delete(copied, recursive: true);
            return false;
        }
    }
}
