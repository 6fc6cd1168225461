using BuildGraph;

namespace BuildGraph.Tests;

/// <summary>Runs a build class in-process against a temporary repository root, capturing what it prints.</summary>
public sealed class BuildHarness : IDisposable
{
    public BuildHarness()
    {
        Root = Path.Combine(Path.GetTempPath(), "buildgraph-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, ".nuke"));
    }

    public string Root { get; }

    public Dictionary<string, string> Variables { get; } = new();

    public CancellationTokenSource Abort { get; } = new();

    public string ParametersFile
    {
        set => File.WriteAllText(Path.Combine(Root, ".nuke", "parameters.json"), value);
    }

    public RunOutput Run<T>(params string[] args) where T : BuildBase, new() => Run<T>(args, []);

    public RunOutput Run<T>(string[] args, params Func<T, Target>[] defaults) where T : BuildBase, new()
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var result = BuildRunner.Run(args, new BuildEnvironment
        {
            WorkingDirectory = Root,
            Variables = Variables,
            Output = output,
            Error = error,
            Ansi = false,
            Width = 80,
            Clock = new FrozenClock(),
            Cancellation = Abort.Token,
        }, defaults);
        return new RunOutput(result, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        Abort.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Every duration is zero, so the summary table can be compared exactly.</summary>
    sealed class FrozenClock : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }
}

public sealed record RunOutput(BuildResult Result, string Output, string Error)
{
    public int ExitCode => Result.ExitCode;

    public IReadOnlyList<string> Lines => Output.TrimEnd('\n').Split('\n');

    /// <summary>The targets that executed, from the headers the engine printed.</summary>
    public IReadOnlyList<string> Headers =>
        Lines.Where(l => l.StartsWith("── ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToList();

    public string Statuses => string.Join(", ", Result.Targets.Select(t => $"{t.Name}:{t.Status}"));
}
