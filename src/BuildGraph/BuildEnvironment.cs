using System.Collections;

namespace BuildGraph;

/// <summary>
/// Everything a run takes from the outside world. <see cref="FromProcess"/> describes the real process; tests
/// build one with their own variables, working directory and writers, so runs are isolated and captured.
/// </summary>
public sealed class BuildEnvironment
{
    /// <summary>Where the search for the <c>.nuke</c> folder starts.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>A second place to start the search (the bootstrapper's output lives inside the repository).</summary>
    public string? FallbackSearchDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    public TextWriter Output { get; init; } = TextWriter.Null;

    /// <summary>Where one-line usage and definition errors go; defaults to <see cref="Output"/>.</summary>
    public TextWriter? Error { get; init; }

    /// <summary>Colors and styles; off when the output is redirected.</summary>
    public bool Ansi { get; init; }

    public bool Unicode { get; init; } = true;

    public int Width { get; init; } = 100;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Signalled by Ctrl-C / SIGTERM: the running target is aborted, the rest do not run.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>The environment of this process: its variables, current directory and console.</summary>
    public static BuildEnvironment FromProcess(CancellationToken cancellation)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        var redirected = Console.IsOutputRedirected;
        var ansi = !redirected && !variables.ContainsKey("NO_COLOR") && variables.GetValueOrDefault("TERM") != "dumb";
        var width = redirected ? 120 : SafeWindowWidth();
        if (int.TryParse(variables.GetValueOrDefault("COLUMNS"), out var columns) && columns >= 40) width = columns;
        return new BuildEnvironment
        {
            WorkingDirectory = Environment.CurrentDirectory,
            FallbackSearchDirectory = AppContext.BaseDirectory,
            Variables = variables,
            Output = Console.Out,
            Error = Console.Error,
            Ansi = ansi,
            Unicode = Console.OutputEncoding.CodePage == 65001 || !OperatingSystem.IsWindows(),
            Width = width,
            Cancellation = cancellation,
        };
    }

    static int SafeWindowWidth()
    {
        try { return Console.WindowWidth is > 40 and var w ? w : 120; }
        catch (IOException) { return 120; }
    }
}
