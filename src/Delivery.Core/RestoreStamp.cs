using System.Security.Cryptography;
using System.Text;

namespace Delivery.Core;

/// <summary>
/// A no-op <c>dotnet restore</c> still costs seconds of MSBuild evaluation. The stamp holds a hash of everything
/// restore reads (the solution, the props, global.json, NuGet config, each project file and lock file, and the size
/// and time of the assets file restore wrote), so a build can skip restore while it is unchanged.
/// </summary>
public sealed class RestoreStamp(string rootDirectory, string stampFile, string dotnetExecutable)
{
    static readonly string[] RootFiles =
        ["WebApp.sln", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "NuGet.config", "nuget.config"];

    static readonly string[] ProjectFolders = ["src", "tests"];

    public bool IsCurrent => File.Exists(stampFile) && File.ReadAllText(stampFile) == InputsHash();

    /// <summary>Records the inputs as they are now (call after a successful restore).</summary>
    public void Write()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(stampFile)!);
        File.WriteAllText(stampFile, InputsHash());
    }

    public string InputsHash()
    {
        var text = new StringBuilder();
        text.AppendLine(dotnetExecutable).AppendLine(Environment.Version.ToString());
        foreach (var name in RootFiles)
            AppendFile(Path.Combine(rootDirectory, name));
        var projectDirectories = ProjectFolders
            .Select(f => Path.Combine(rootDirectory, f))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Order(StringComparer.Ordinal);
        foreach (var directory in projectDirectories)
        {
            foreach (var file in Directory.EnumerateFiles(directory, "*.csproj").Append(Path.Combine(directory, "packages.lock.json")).Order(StringComparer.Ordinal))
                AppendFile(file);
            var assets = new FileInfo(Path.Combine(directory, "obj", "project.assets.json"));
            text.AppendLine($"{assets.FullName} {(assets.Exists ? $"{assets.Length} {assets.LastWriteTimeUtc.Ticks}" : "missing")}");
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));

        void AppendFile(string file)
        {
            if (File.Exists(file)) text.AppendLine(file).AppendLine(File.ReadAllText(file));
        }
    }
}
