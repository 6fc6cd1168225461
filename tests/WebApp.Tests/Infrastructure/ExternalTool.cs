namespace WebApp.Tests.Infrastructure;

internal static class ExternalTool
{
    /// <summary>The full path of a required tool; fails the test with a clear message when it is missing.</summary>
    public static string Require(string name, string installHint)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        Assert.Fail($"'{name}' is required for this test but was not found on PATH ({installHint}).");
        return null!;
    }
}
