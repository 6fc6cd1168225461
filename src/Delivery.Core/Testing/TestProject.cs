using System.Text.RegularExpressions;

namespace Delivery.Core.Testing;

/// <summary>
/// A test project under tests/: its name, its .csproj, and the machine-global resources it uses (declared in the
/// project file as <c>&lt;TestSharedResources&gt;docker-default-registry;…&lt;/TestSharedResources&gt;</c>). Projects that
/// name a resource in common never run at the same time; all others may.
/// </summary>
public sealed record TestProject(string Name, string ProjectFile, IReadOnlyList<string> SharedResources);

/// <summary>Finds the test projects under tests/ and picks the ones a <c>--test-project</c> selection names.</summary>
public static class TestProjectCatalog
{
    /// <summary>The projects under <paramref name="testsDirectory"/> that declare <c>&lt;IsTestProject&gt;true&lt;/IsTestProject&gt;</c>
    /// (support libraries such as the AWS test endpoint hold no tests), by name.</summary>
    public static IReadOnlyList<TestProject> Discover(string testsDirectory) =>
        Directory.Exists(testsDirectory)
            ? Directory.EnumerateDirectories(testsDirectory)
                .SelectMany(d => Directory.EnumerateFiles(d, "*.csproj"))
                .Select(FromProjectFile)
                .OfType<TestProject>()
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ToList()
            : [];

    static TestProject? FromProjectFile(string file)
    {
        var text = File.ReadAllText(file);
        if (!text.Contains("<IsTestProject>true</IsTestProject>", StringComparison.Ordinal)) return null;
        var resources = Regex.Match(text, "<TestSharedResources>(.*?)</TestSharedResources>", RegexOptions.Singleline) is { Success: true } m
            ? m.Groups[1].Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return new TestProject(Path.GetFileNameWithoutExtension(file), file, resources);
    }

    /// <summary>
    /// The projects a comma-separated selection names; each entry is a project name with or without its ".Tests"
    /// suffix, ignoring case (<c>Delivery.Versioning</c> or <c>Delivery.Versioning.Tests</c>). Null or empty selects all.
    /// </summary>
    public static IReadOnlyList<TestProject> Select(IReadOnlyList<TestProject> projects, string? selection)
    {
        if (string.IsNullOrWhiteSpace(selection)) return projects;
        var chosen = new List<TestProject>();
        foreach (var entry in selection.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = projects.FirstOrDefault(p => p.Name.Equals(entry, StringComparison.OrdinalIgnoreCase)
                                                     || p.Name.Equals(entry + ".Tests", StringComparison.OrdinalIgnoreCase))
                        ?? throw new DeliveryException($"--test-project '{entry}' is not a test project; the test projects are {string.Join(", ", projects.Select(p => p.Name.EndsWith(".Tests", StringComparison.Ordinal) ? p.Name[..^".Tests".Length] : p.Name))}");
            if (!chosen.Contains(match)) chosen.Add(match);
        }
        return chosen;
    }
}
