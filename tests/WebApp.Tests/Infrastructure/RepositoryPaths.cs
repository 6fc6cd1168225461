namespace WebApp.Tests.Infrastructure;

internal static class RepositoryPaths
{
    /// <summary>src/WebApp, found by walking up from the test output directory.</summary>
    public static string WebAppProject { get; } = FindWebAppProject();

    private static string FindWebAppProject()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "WebApp");
            if (File.Exists(Path.Combine(candidate, "WebApp.csproj")))
                return candidate;
        }
        throw new InvalidOperationException($"Could not find src/WebApp above {AppContext.BaseDirectory}.");
    }

    /// <summary>The WebApp.dll built for the same configuration as these tests.</summary>
    public static string BuiltWebAppDll
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0/
            var dll = Path.Combine(WebAppProject, "bin", configuration, "net10.0", "WebApp.dll");
            if (!File.Exists(dll))
                throw new InvalidOperationException($"Expected the built app at {dll}; build src/WebApp first.");
            return dll;
        }
    }
}
