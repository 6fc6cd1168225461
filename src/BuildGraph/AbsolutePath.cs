namespace BuildGraph;

/// <summary>A normalized absolute path; <c>RootDirectory / "artifacts" / "publish"</c> combines.</summary>
public readonly record struct AbsolutePath
{
    public AbsolutePath(string path)
    {
        if (!Path.IsPathFullyQualified(path))
            throw new ArgumentException($"'{path}' is not an absolute path.", nameof(path));
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full);
        Value = full.Length > (root?.Length ?? 0) ? full.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) : full;
    }

    public string Value { get; }

    public string Name => Path.GetFileName(Value);

    public AbsolutePath Parent => new(Path.GetDirectoryName(Value) ?? Value);

    public bool DirectoryExists => Directory.Exists(Value);

    public bool FileExists => File.Exists(Value);

    public string RelativeTo(AbsolutePath baseDirectory) => Path.GetRelativePath(baseDirectory.Value, Value);

    public static AbsolutePath operator /(AbsolutePath left, string right) => new(Path.Combine(left.Value, right));

    public static implicit operator string(AbsolutePath path) => path.Value;

    public override string ToString() => Value;
}
