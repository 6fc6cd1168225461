namespace BuildGraph;

/// <summary>The warnings for an old target or parameter name that still works for one release.</summary>
internal static class Deprecation
{
    public static string Parameter(string old, string current) =>
        $"{old} is deprecated and will be removed in the next release; use {current}";

    public static string Target(string old, string current) =>
        $"Target {old} is deprecated and will be removed in the next release; use {current}";
}
