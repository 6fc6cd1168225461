using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class CanonicalSourceTests : IDisposable
{
    readonly string temp = Directory.CreateTempSubdirectory("canonical-source-").FullName;
    string Clone => Path.Combine(temp, "clone");
    string Root => Path.Combine(temp, "canonical", "app");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    string Write(string relative, string content = "x")
    {
        var path = Path.Combine(Clone, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    CanonicalSourceOptions Options(TimeSpan? lockTimeout = null) => new()
    {
        SourceRoot = Clone,
        Project = Path.Combine(Clone, "src", "App", "App.csproj"),
        Root = Root,
        LockTimeout = lockTimeout ?? TimeSpan.FromSeconds(5),
    };

    List<string> MirroredFiles() => Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal).ToList();

    void WriteClone()
    {
        Write("Directory.Build.props", "<Project />");
        Write("global.json", "{}");
        Write("src/Directory.Packages.props", "<Project />");
        Write("src/App/App.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        Write("src/App/Pages/Index.cshtml", "<h1>hi</h1>");
        Write("src/App/bin/Release/App.dll", "built in the clone");
        Write("src/App/obj/project.assets.json", "{}");
        Write("src/App/node_modules/pkg/index.js", "module");
        Write("src/Other/Other.cs", "another project");
        Write("tests/Test.cs", "a test");
    }

    [Fact]
    public async Task Mirrors_the_project_folder_and_the_files_of_the_folders_above_it_without_build_state()
    {
        WriteClone();
        using var source = await CanonicalSource.MirrorAsync(Options());

        Assert.Equal(Path.Combine(Root, "src", "App", "App.csproj"), source.Project);
        Assert.Equal(new[]
        {
            "Directory.Build.props", "global.json", "src/App/App.csproj", "src/App/Pages/Index.cshtml", "src/Directory.Packages.props",
        }, MirroredFiles());
        Assert.Equal((5, 0, 0), (source.Copied, source.Deleted, source.Unchanged));
    }

    [Fact]
    public async Task Copies_only_what_changed_with_a_new_time_deletes_what_the_clone_dropped_and_keeps_the_mirror_build_state()
    {
        WriteClone();
        using (await CanonicalSource.MirrorAsync(Options())) { }
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(file, old);
        var mirrorBuildState = Path.Combine(Root, "src", "App", "obj", "App.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(mirrorBuildState)!);
        File.WriteAllText(mirrorBuildState, "built in the mirror");

        // The clone is touched far into the future (as another checkout might be) but only one file's bytes change;
        // one file goes away.
        foreach (var file in Directory.EnumerateFiles(Clone, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddDays(30));
        Write("src/App/Pages/Index.cshtml", "<h1>changed</h1>");
        File.Delete(Path.Combine(Clone, "global.json"));
        var before = DateTime.UtcNow.AddSeconds(-1);
        using var source = await CanonicalSource.MirrorAsync(Options());

        Assert.Equal((1, 1, 3), (source.Copied, source.Deleted, source.Unchanged));
        Assert.Equal("<h1>changed</h1>", File.ReadAllText(Path.Combine(Root, "src", "App", "Pages", "Index.cshtml")));
        // A changed file is newer than anything built before, whatever time the clone gave it (so MSBuild rebuilds).
        var changedTime = File.GetLastWriteTimeUtc(Path.Combine(Root, "src", "App", "Pages", "Index.cshtml"));
        Assert.InRange(changedTime, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(old, File.GetLastWriteTimeUtc(Path.Combine(Root, "src", "App", "App.csproj")));
        Assert.False(File.Exists(Path.Combine(Root, "global.json")));
        Assert.Equal("built in the mirror", File.ReadAllText(mirrorBuildState));
    }

    [Fact]
    public async Task A_second_build_waits_for_the_first_and_gives_up_with_one_line()
    {
        WriteClone();
        var waits = new List<string>();
        using (await CanonicalSource.MirrorAsync(Options()))
        {
            var e = await Assert.ThrowsAsync<DeliveryException>(() => CanonicalSource.MirrorAsync(Options(TimeSpan.FromSeconds(1)), waits.Add));
            Assert.Equal($"Another build has held {Root}.lock for more than 1 s", e.Message.Split(" (")[0]);
            Assert.Equal([$"Waiting for another build that uses {Root}…"], waits);
        }
        using var after = await CanonicalSource.MirrorAsync(Options(TimeSpan.FromSeconds(1)));
        Assert.Equal(5, after.Unchanged);
    }

    [Fact]
    public async Task Refuses_a_project_outside_the_clone_and_a_mirror_inside_it()
    {
        WriteClone();
        var outside = await Assert.ThrowsAsync<DeliveryException>(() => CanonicalSource.MirrorAsync(Options() with { Project = Path.Combine(temp, "App.csproj") }));
        Assert.Contains("is not a project file inside", outside.Message);
        var inside = await Assert.ThrowsAsync<DeliveryException>(() => CanonicalSource.MirrorAsync(Options() with { Root = Path.Combine(Clone, "mirror") }));
        Assert.Contains("must be outside the clone", inside.Message);
    }
}
