using System.Formats.Tar;
using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class BuildContextTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("build-context-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    string Write(string relative, string content = "x")
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    static Dictionary<string, string> ReadTar(BuildContext context)
    {
        var files = new Dictionary<string, string>();
        using var stream = context.OpenRead();
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType == TarEntryType.Directory) { files[entry.Name] = "<dir>"; continue; }
            using var text = new StreamReader(entry.DataStream!);
            files[entry.Name] = text.ReadToEnd();
        }
        return files;
    }

    [Fact]
    public void Honours_dockerignore_and_hides_the_Dockerfile_from_COPY()
    {
        Write("Dockerfile", "FROM scratch");
        Write("WebApp.dll", "app");
        Write("wwwroot/site.css", "css");
        Write("logs/today.log");
        Write("logs/keep.log", "kept");
        Write("secrets/key.txt");
        Write("nested/deep/file.pdb");
        Write(".dockerignore", "# comment\n\nlogs\n!logs/keep.log\n/secrets\n**/*.pdb\n");

        using var context = BuildContext.FromDirectory(root);
        var files = ReadTar(context);

        Assert.Equal("Dockerfile", context.DockerfileName);
        Assert.Equal("FROM scratch", files["Dockerfile"]);
        Assert.Equal("app", files["WebApp.dll"]);
        Assert.Equal("css", files["wwwroot/site.css"]);
        Assert.Equal("kept", files["logs/keep.log"]);
        Assert.DoesNotContain("logs/today.log", files.Keys);
        Assert.DoesNotContain("secrets/key.txt", files.Keys);
        Assert.DoesNotContain("nested/deep/file.pdb", files.Keys);
        // The engine drops what .dockerignore names from COPY sources; ours names only the Dockerfile and itself.
        Assert.Equal("Dockerfile\n.dockerignore\n", files[".dockerignore"]);
        Assert.Equal(files.Keys.Order(), context.Entries.Order());
    }

    [Fact]
    public void An_outside_Dockerfile_is_added_under_a_free_name()
    {
        Write("WebApp.dll");
        var outside = Path.Combine(Directory.CreateTempSubdirectory("dockerfile-").FullName, "Dockerfile");
        File.WriteAllText(outside, "FROM base");
        try
        {
            using (var context = BuildContext.FromDirectory(root, outside))
            {
                Assert.Equal("Dockerfile", context.DockerfileName);
                Assert.Equal("FROM base", ReadTar(context)["Dockerfile"]);
            }
            Write("Dockerfile", "the app's own file");
            using (var context = BuildContext.FromDirectory(root, outside))
            {
                var files = ReadTar(context);
                Assert.Equal(".delivery.Dockerfile", context.DockerfileName);
                Assert.Equal("FROM base", files[".delivery.Dockerfile"]);
                Assert.Equal("the app's own file", files["Dockerfile"]);
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(outside)!, recursive: true);
        }
    }

    [Fact]
    public void The_temp_tar_is_deleted_on_dispose()
    {
        Write("Dockerfile");
        var context = BuildContext.FromDirectory(root);
        using (var stream = context.OpenRead()) Assert.True(stream.Length > 0);
        var path = typeof(BuildContext).GetField("tarPath", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(context) as string;
        context.Dispose();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Missing_directory_or_Dockerfile_are_one_line_errors()
    {
        var missingDir = Assert.Throws<DeliveryException>(() => BuildContext.FromDirectory(Path.Combine(root, "nope")));
        Assert.Contains("does not exist (was the app published?)", missingDir.Message);
        var missingFile = Assert.Throws<DeliveryException>(() => BuildContext.FromDirectory(root));
        Assert.Contains("Dockerfile", missingFile.Message);
    }

    [Theory]
    [InlineData("*.log", "a.log", true)]
    [InlineData("*.log", "dir/a.log", false)]
    [InlineData("**/*.log", "dir/sub/a.log", true)]
    [InlineData("**/*.log", "a.log", true)]
    [InlineData("dir", "dir/sub/a.txt", true)]
    [InlineData("dir/*", "dir/a.txt", true)]
    [InlineData("dir/*", "dirx/a.txt", false)]
    [InlineData("file?.txt", "file1.txt", true)]
    [InlineData("file?.txt", "file10.txt", false)]
    [InlineData("[ab].txt", "b.txt", true)]
    [InlineData("[!ab].txt", "c.txt", true)]
    [InlineData("/rooted", "rooted", true)]
    [InlineData("./dotted/x", "dotted/x", true)]
    public void Dockerignore_patterns(string pattern, string path, bool excluded)
    {
        Assert.Equal(excluded, new DockerIgnore([pattern]).IsExcluded(path));
    }

    [Fact]
    public void The_last_matching_rule_wins()
    {
        var ignore = new DockerIgnore(["*.md", "!README.md", "README.md"]);
        Assert.True(ignore.IsExcluded("README.md"));
        Assert.True(new DockerIgnore(["*.md", "!README.md"]).HasIncludeRules);
        Assert.False(new DockerIgnore(["*.md", "!README.md"]).IsExcluded("README.md"));
    }
}
