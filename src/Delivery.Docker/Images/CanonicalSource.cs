using Delivery.Core;

namespace Delivery.Docker;

/// <summary>Where a project is mirrored to be built: <see cref="Root"/> is the fixed folder (the same in every clone
/// and on every machine), and the mirror holds what an MSBuild evaluation of the project reads from the source tree.</summary>
public sealed record CanonicalSourceOptions
{
    /// <summary>The clone's root (holds the project, its Directory.Build.* files, global.json).</summary>
    public required string SourceRoot { get; init; }
    /// <summary>The project file, inside <see cref="SourceRoot"/>.</summary>
    public required string Project { get; init; }
    /// <summary>The fixed folder the sources are mirrored into. Its path ends up in the build's output, so it must not
    /// depend on the clone, the user or the machine.</summary>
    public required string Root { get; init; }
    /// <summary>Build state, kept in the mirror between builds and never copied from the clone.</summary>
    public IReadOnlyList<string> BuildStateDirectories { get; init; } = ["bin", "obj", "node_modules"];
    /// <summary>How long to wait for another build that is using <see cref="Root"/>.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// A mirror of a project's sources at a fixed path, held under an exclusive lock until disposed. The Razor source
/// generator writes each .cshtml file's absolute path into the C# it generates (<c>#pragma checksum</c>, <c>#line</c>)
/// and numbers tag helpers by their position in that text, so the dll and pdb depend on where the clone is, and
/// <c>PathMap</c> does not reach generated text (dotnet/roslyn#85387, open). Building from one fixed path removes the
/// clone's path from the output.
/// <para>What is mirrored: the project's folder (recursively) and the files of each folder above it up to the
/// clone's root (where MSBuild and the SDK look for Directory.Build.*, Directory.Packages.props, global.json,
/// NuGet.config). A file is copied only when its bytes differ, and then gets the current time, so incremental
/// builds in the mirror stay correct whatever the clone's file times; files the clone no longer has are deleted.
/// Build state (bin, obj, node_modules) stays in the mirror and is never copied.</para>
/// </summary>
public sealed class CanonicalSource : IDisposable
{
    readonly FileStream lockFile;

    CanonicalSource(FileStream lockFile, string root, string project, int copied, int deleted, int unchanged)
    {
        this.lockFile = lockFile;
        Root = root;
        Project = project;
        Copied = copied;
        Deleted = deleted;
        Unchanged = unchanged;
    }

    public string Root { get; }
    /// <summary>The project file inside the mirror: what to build.</summary>
    public string Project { get; }
    public int Copied { get; }
    public int Deleted { get; }
    public int Unchanged { get; }

    public static async Task<CanonicalSource> MirrorAsync(CanonicalSourceOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var sourceRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.SourceRoot));
        var project = Path.GetFullPath(options.Project);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Root));
        var projectDirectory = Path.GetDirectoryName(project)!;
        var relativeProjectDirectory = Path.GetRelativePath(sourceRoot, projectDirectory);
        if (!File.Exists(project) || relativeProjectDirectory.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relativeProjectDirectory))
            throw new DeliveryException($"{options.Project} is not a project file inside {sourceRoot}");
        if (IsInside(root, sourceRoot) || IsInside(sourceRoot, root))
            throw new DeliveryException($"The canonical source folder {root} must be outside the clone {sourceRoot}, and the clone outside it");

        var lockFile = await AcquireLockAsync(root + ".lock", options.LockTimeout, log, cancellationToken);
        try
        {
            var (copied, deleted, unchanged) = Mirror(sourceRoot, relativeProjectDirectory, root, options.BuildStateDirectories, cancellationToken);
            return new CanonicalSource(lockFile, root, Path.Combine(root, Path.GetRelativePath(sourceRoot, project)), copied, deleted, unchanged);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    public void Dispose() => lockFile.Dispose();

    static bool IsInside(string path, string folder) =>
        path == folder || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>An advisory lock (flock, which .NET takes for <see cref="FileShare.None"/> on Unix): the kernel drops it
    /// when the process dies, so a killed build never leaves the mirror locked.</summary>
    static async Task<FileStream> AcquireLockAsync(string path, TimeSpan timeout, Action<string>? log, CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DeliveryException($"Cannot create {Path.GetDirectoryName(path)} for the canonical source mirror: {e.Message}");
        }
        var deadline = DateTime.UtcNow + timeout;
        var waiting = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new DeliveryException($"Cannot open the lock {path}: {e.Message}");
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!waiting) log?.Invoke($"Waiting for another build that uses {Path.ChangeExtension(path, null)}…");
                waiting = true;
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
            catch (IOException e)
            {
                throw new DeliveryException($"Another build has held {path} for more than {(timeout.TotalMinutes >= 1 ? $"{timeout.TotalMinutes:0} min" : $"{timeout.TotalSeconds:0} s")} ({e.Message})");
            }
        }
    }

    static (int Copied, int Deleted, int Unchanged) Mirror(string sourceRoot, string relativeProjectDirectory, string root,
        IReadOnlyList<string> buildState, CancellationToken cancellationToken)
    {
        // Relative paths of the files to mirror: the files of every folder from the root down to the project's, and
        // everything below the project's folder.
        var wanted = new SortedSet<string>(StringComparer.Ordinal);
        var folder = "";
        foreach (var part in relativeProjectDirectory.Split(Path.DirectorySeparatorChar).Prepend(""))
        {
            folder = Path.Combine(folder, part);
            foreach (var file in Directory.EnumerateFiles(Path.Combine(sourceRoot, folder)))
                wanted.Add(Path.GetRelativePath(sourceRoot, file));
        }
        foreach (var file in Files(Path.Combine(sourceRoot, relativeProjectDirectory), buildState))
            wanted.Add(Path.GetRelativePath(sourceRoot, file));

        int copied = 0, deleted = 0, unchanged = 0;
        var now = DateTime.UtcNow;
        foreach (var relative in wanted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = Path.Combine(sourceRoot, relative);
            var to = Path.Combine(root, relative);
            if (File.Exists(to) && SameBytes(from, to)) { unchanged++; continue; }
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to, overwrite: true);
            File.SetLastWriteTimeUtc(to, now);
            copied++;
        }

        // What the clone no longer has: files beside the wanted ones, outside build state.
        if (Directory.Exists(root))
            foreach (var file in Files(root, buildState).ToList())
                if (!wanted.Contains(Path.GetRelativePath(root, file)))
                {
                    File.Delete(file);
                    deleted++;
                }
        return (copied, deleted, unchanged);
    }

    /// <summary>Every file below <paramref name="directory"/>, not descending into build state folders or symbolic links
    /// to folders.</summary>
    static IEnumerable<string> Files(string directory, IReadOnlyList<string> buildState)
    {
        foreach (var file in Directory.EnumerateFiles(directory)) yield return file;
        foreach (var sub in Directory.EnumerateDirectories(directory))
        {
            if (buildState.Contains(Path.GetFileName(sub)) || new DirectoryInfo(sub).LinkTarget is not null) continue;
            foreach (var file in Files(sub, buildState)) yield return file;
        }
    }

    static bool SameBytes(string a, string b)
    {
        var infoA = new FileInfo(a);
        var infoB = new FileInfo(b);
        if (infoA.Length != infoB.Length) return false;
        const int size = 81920;
        using var streamA = infoA.OpenRead();
        using var streamB = infoB.OpenRead();
        var bufferA = new byte[size];
        var bufferB = new byte[size];
        while (true)
        {
            var readA = streamA.ReadAtLeast(bufferA, size, throwOnEndOfStream: false);
            var readB = streamB.ReadAtLeast(bufferB, size, throwOnEndOfStream: false);
            if (readA != readB || !bufferA.AsSpan(0, readA).SequenceEqual(bufferB.AsSpan(0, readB))) return false;
            if (readA == 0) return true;
        }
    }
}
