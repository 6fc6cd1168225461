namespace BuildGraph;

/// <summary>A failure of the build definition or its input, shown as one line without a stack trace.</summary>
public sealed class BuildException(string message) : Exception(OneLine(message))
{
    internal static string OneLine(string message) =>
        string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
