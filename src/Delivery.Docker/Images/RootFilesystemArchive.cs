using System.Formats.Tar;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// A root filesystem assembled from files of this machine (plus small generated files), written as a tar for
/// <see cref="DockerEngineClient.ImportImageAsync"/>. Host paths keep their symlink chains (e.g. /lib → usr/lib on
/// merged-/usr systems), so binaries find their loader and libraries where they were linked to look.
/// Everything is owned by root unless stated.
/// </summary>
public sealed class RootFilesystemArchive
{
    const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101;  // 0755
    const UnixFileMode FileMode644 = (UnixFileMode)0b110_100_100;

    sealed record Entry(TarEntryType Type, UnixFileMode Mode, int Uid, int Gid, string? HostPath = null, byte[]? Content = null, string? LinkTarget = null);

    readonly SortedDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    public int Count => entries.Count;

    /// <summary>Every entry's modification time: a fixed time (the commit's, or the epoch), never the clock, so the
    /// same files give the same tar bytes and layer digest.</summary>
    public DateTimeOffset ModificationTime { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>The sum of the regular files' sizes.</summary>
    public long ContentBytes => entries.Values.Sum(e => e.Content?.LongLength ?? (e.HostPath is null ? 0 : new FileInfo(e.HostPath).Length));

    /// <summary>True when the path exists in the image, following the image's own symlinks (as the loader would).</summary>
    public bool Contains(string imagePath) => Resolve(Key(imagePath), 0) is not null;

    string? Resolve(string key, int depth)
    {
        if (depth > 40) return null;
        var parts = key.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "";
        for (var i = 0; i < parts.Length; i++)
        {
            var next = current.Length == 0 ? parts[i] : current + "/" + parts[i];
            if (!entries.TryGetValue(next, out var entry)) return null;
            if (entry.Type == TarEntryType.SymbolicLink)
            {
                var target = entry.LinkTarget!.StartsWith('/') ? entry.LinkTarget : "/" + current + "/" + entry.LinkTarget;
                var rest = string.Join('/', parts[(i + 1)..]);
                var combined = Path.GetFullPath(rest.Length == 0 ? target : target + "/" + rest, "/");
                return Resolve(Key(combined), depth + 1);
            }
            current = next;
        }
        return current;
    }

    public void AddDirectory(string imagePath, UnixFileMode mode = DirectoryMode, int uid = 0, int gid = 0)
    {
        EnsureParents(imagePath);
        entries[Key(imagePath)] = new Entry(TarEntryType.Directory, mode, uid, gid);
    }

    public void AddText(string imagePath, string content, UnixFileMode mode = FileMode644, int uid = 0, int gid = 0)
    {
        EnsureParents(imagePath);
        entries[Key(imagePath)] = new Entry(TarEntryType.RegularFile, mode, uid, gid, Content: System.Text.Encoding.UTF8.GetBytes(content));
    }

    public void AddSymlink(string imagePath, string target)
    {
        EnsureParents(imagePath);
        entries[Key(imagePath)] = new Entry(TarEntryType.SymbolicLink, (UnixFileMode)0b111_111_111, 0, 0, LinkTarget: target);
    }

    /// <summary>Copies a host file to another place in the image (following symlinks on the host side).</summary>
    public void AddHostFileAs(string hostPath, string imagePath, UnixFileMode? mode = null)
    {
        var info = new FileInfo(hostPath);
        var real = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo;
        if (real is null || !real.Exists) throw new DeliveryException($"{hostPath} does not exist on this machine");
        EnsureParents(imagePath);
        entries[Key(imagePath)] = new Entry(TarEntryType.RegularFile, mode ?? HostMode(real.FullName), 0, 0, HostPath: real.FullName);
    }

    /// <summary>
    /// Adds a host path at the same place in the image. Symlinks along the way are recorded as symlinks and followed,
    /// so the image ends up with the same chain. Directories are copied whole when <paramref name="recursive"/>.
    /// </summary>
    public void AddHostPath(string hostPath, bool recursive = false) => AddHostPath(hostPath, recursive, 0);

    void AddHostPath(string hostPath, bool recursive, int depth)
    {
        if (depth > 40) throw new DeliveryException($"Too many symbolic links while resolving {hostPath}");
        if (!hostPath.StartsWith('/')) throw new ArgumentException($"'{hostPath}' is not an absolute path", nameof(hostPath));
        var parts = hostPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "";
        for (var i = 0; i < parts.Length; i++)
        {
            var next = current + "/" + parts[i];
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                entries[Key(next)] = new Entry(TarEntryType.SymbolicLink, (UnixFileMode)0b111_111_111, 0, 0, LinkTarget: target);
                var resolved = target.StartsWith('/') ? target : Path.GetFullPath(Path.Combine(current.Length == 0 ? "/" : current, target));
                var remaining = string.Join('/', parts[(i + 1)..]);
                AddHostPath(remaining.Length == 0 ? resolved : resolved.TrimEnd('/') + "/" + remaining, recursive, depth + 1);
                return;
            }
            var isLast = i == parts.Length - 1;
            if (Directory.Exists(next))
            {
                if (!entries.TryGetValue(Key(next), out var existing) || existing.Type != TarEntryType.Directory)
                    entries[Key(next)] = new Entry(TarEntryType.Directory, HostMode(next), 0, 0);
                if (isLast && recursive)
                    foreach (var child in Directory.EnumerateFileSystemEntries(next))
                        AddHostPath(child, recursive: true, depth);
                current = next;
                continue;
            }
            if (isLast && File.Exists(next))
            {
                entries[Key(next)] = new Entry(TarEntryType.RegularFile, HostMode(next), 0, 0, HostPath: next);
                return;
            }
            throw new DeliveryException($"{next} does not exist on this machine");
        }
    }

    /// <summary>
    /// Adds a host directory's files under <paramref name="imageDirectory"/> with fixed owners and modes: directories
    /// 0755, files 0755 when the owner may execute them and 0644 otherwise, symlinks as they are. Host times, owners
    /// and umask never reach the tar.
    /// </summary>
    public void AddTree(string hostDirectory, string imageDirectory, int uid = 0, int gid = 0)
    {
        if (!Directory.Exists(hostDirectory)) throw new DeliveryException($"{hostDirectory} does not exist");
        AddDirectory(imageDirectory, DirectoryMode, uid, gid);
        foreach (var path in Directory.EnumerateFileSystemEntries(hostDirectory))
        {
            var info = new FileInfo(path);
            var target = imageDirectory.TrimEnd('/') + "/" + info.Name;
            if (info.LinkTarget is { } link) entries[Key(target)] = new Entry(TarEntryType.SymbolicLink, (UnixFileMode)0b111_111_111, uid, gid, LinkTarget: link);
            else if (info.Attributes.HasFlag(FileAttributes.Directory)) AddTree(path, target, uid, gid);
            else entries[Key(target)] = new Entry(TarEntryType.RegularFile,
                HostMode(path).HasFlag(UnixFileMode.UserExecute) ? DirectoryMode : FileMode644, uid, gid, HostPath: path);
        }
    }

    /// <summary>Writes the tar (parents before children). Returns the number of entries.</summary>
    public int WriteTo(Stream stream) => WriteToAsync(stream).GetAwaiter().GetResult();

    public async Task<int> WriteToAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        // GNU, not PAX: .NET names each PAX header "PaxHeaders.<process id>", which would differ from run to run.
        await using var writer = new TarWriter(stream, TarEntryFormat.Gnu, leaveOpen: true);
        var modified = ModificationTime;
        foreach (var (path, entry) in entries)
        {
            var tarEntry = new GnuTarEntry(entry.Type, entry.Type == TarEntryType.Directory ? path + "/" : path)
            {
                Mode = entry.Mode,
                Uid = entry.Uid,
                Gid = entry.Gid,
                ModificationTime = modified,
                AccessTime = modified,
                ChangeTime = modified,
            };
            if (entry.LinkTarget is not null) tarEntry.LinkName = entry.LinkTarget;
            Stream? data = null;
            try
            {
                if (entry.Content is not null) data = new MemoryStream(entry.Content, writable: false);
                else if (entry.HostPath is not null) data = new FileStream(entry.HostPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
                if (data is not null) tarEntry.DataStream = data;
                await writer.WriteEntryAsync(tarEntry, cancellationToken);
            }
            finally
            {
                if (data is not null) await data.DisposeAsync();
            }
        }
        return entries.Count;
    }

    void EnsureParents(string imagePath)
    {
        var parts = Key(imagePath).Split('/');
        var path = "";
        for (var i = 0; i < parts.Length - 1; i++)
        {
            path = path.Length == 0 ? parts[i] : path + "/" + parts[i];
            if (entries.TryGetValue(path, out var existing))
            {
                if (existing.Type == TarEntryType.SymbolicLink)
                    throw new InvalidOperationException($"/{path} is a symbolic link in the image; add /{imagePath.TrimStart('/')} under its target instead");
                continue;
            }
            entries[path] = new Entry(TarEntryType.Directory, DirectoryMode, 0, 0);
        }
    }

    static string Key(string imagePath) => imagePath.Trim('/');

    static UnixFileMode HostMode(string path) =>
        OperatingSystem.IsWindows() ? throw new PlatformNotSupportedException("Root filesystems are assembled on Linux") : File.GetUnixFileMode(path);
}
