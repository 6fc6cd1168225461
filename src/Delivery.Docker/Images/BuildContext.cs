using System.Formats.Tar;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// A build context: a tar of a directory (filtered by its .dockerignore) plus the Dockerfile, kept in a temp file
/// that is deleted on dispose. The Dockerfile may live outside the directory; it is added under
/// <see cref="DockerfileName"/>, and a generated .dockerignore names it so that <c>COPY . …</c> never copies it.
/// </summary>
public sealed class BuildContext : IDisposable
{
    readonly string tarPath;

    BuildContext(string tarPath, string dockerfileName, IReadOnlyList<string> entries)
    {
        this.tarPath = tarPath;
        DockerfileName = dockerfileName;
        Entries = entries;
    }

    /// <summary>The Dockerfile's name inside the context: pass it as the build's "dockerfile".</summary>
    public string DockerfileName { get; }

    /// <summary>The paths in the tar (directories end with '/').</summary>
    public IReadOnlyList<string> Entries { get; }

    public long Length => new FileInfo(tarPath).Length;

    /// <summary>A fresh read stream over the tar (the caller disposes it).</summary>
    public Stream OpenRead() => new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous);

    public void Dispose()
    {
        try { File.Delete(tarPath); } catch (IOException) { }
    }

    /// <summary>
    /// Tars <paramref name="directory"/>. <paramref name="dockerfile"/> is a path to the Dockerfile (absolute, or
    /// relative to the current directory); null means &lt;directory&gt;/Dockerfile.
    /// </summary>
    public static BuildContext FromDirectory(string directory, string? dockerfile = null)
    {
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
            throw new DeliveryException($"Build context directory {root} does not exist (was the app published?)");
        var dockerfilePath = Path.GetFullPath(dockerfile ?? Path.Combine(root, "Dockerfile"));
        if (!File.Exists(dockerfilePath))
            throw new DeliveryException($"Dockerfile {dockerfilePath} does not exist");

        var ignore = DockerIgnore.Load(Path.Combine(root, ".dockerignore"));
        var insideRoot = dockerfilePath.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        var dockerfileName = insideRoot ? Path.GetRelativePath(root, dockerfilePath).Replace('\\', '/') : ChooseName(root);

        var tarPath = Path.Combine(Path.GetTempPath(), $"build-context-{Guid.NewGuid():N}.tar");
        var entries = new List<string>();
        try
        {
            using (var file = File.Create(tarPath))
            using (var writer = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: false))
            {
                AddDirectory(writer, root, root, ignore, entries, skip: dockerfileName);
                writer.WriteEntry(dockerfilePath, dockerfileName);
                entries.Add(dockerfileName);
                // The engine drops the Dockerfile and .dockerignore from COPY sources when .dockerignore names them.
                var ignoreEntry = new PaxTarEntry(TarEntryType.RegularFile, ".dockerignore")
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"{dockerfileName}\n.dockerignore\n")),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                writer.WriteEntry(ignoreEntry);
                entries.Add(".dockerignore");
            }
            return new BuildContext(tarPath, dockerfileName, entries);
        }
        catch
        {
            File.Delete(tarPath);
            throw;
        }
    }

    static string ChooseName(string root) =>
        File.Exists(Path.Combine(root, "Dockerfile")) || Directory.Exists(Path.Combine(root, "Dockerfile")) ? ".delivery.Dockerfile" : "Dockerfile";

    static void AddDirectory(TarWriter writer, string root, string directory, DockerIgnore ignore, List<string> entries, string skip)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (relative == ".dockerignore" || relative == skip) continue;
            var info = new FileInfo(path);
            var isDirectory = info.Attributes.HasFlag(FileAttributes.Directory) && info.LinkTarget is null;
            var excluded = ignore.IsExcluded(relative);
            if (isDirectory)
            {
                if (!excluded)
                {
                    writer.WriteEntry(path, relative + "/");
                    entries.Add(relative + "/");
                }
                // A later "!pattern" may re-include something below an excluded directory.
                if (!excluded || ignore.HasIncludeRules) AddDirectory(writer, root, path, ignore, entries, skip);
                continue;
            }
            if (excluded) continue;
            writer.WriteEntry(path, relative);
            entries.Add(relative);
        }
    }
}
