using System.Text.RegularExpressions;
using Delivery.Core;

namespace EndToEnd.Tests.Infrastructure;

/// <summary>What one real <c>./build.sh</c> run printed, and how it ended.</summary>
public sealed record BuildRun(IReadOnlyList<string> Arguments, int ExitCode, string StandardOutput, string StandardError, IReadOnlyList<string> Lines)
{
    public IEnumerable<string> OutputLines => SplitLines(StandardOutput);
    public IEnumerable<string> ErrorLines => SplitLines(StandardError);
    public string AllText => StandardOutput + StandardError;

    static IEnumerable<string> SplitLines(string text) =>
        text.Replace("\r\n", "\n").Split('\n').Where(l => l.Trim().Length > 0);

    /// <summary>The note of <paramref name="target"/> in the summary table, with wrapped continuation rows joined.</summary>
    public string? SummaryNote(string target) => SummaryRow(target)?.Note;

    public string? SummaryStatus(string target) => SummaryRow(target)?.Status;

    (string Status, string Note)? SummaryRow(string target)
    {
        (string Status, string Note)? found = null;
        foreach (var line in OutputLines)
        {
            if (!line.StartsWith('│')) { if (found is not null) break; continue; }
            var cells = line.Split('│').Select(c => c.Trim()).ToArray();
            if (cells.Length < 6) continue;
            if (cells[1] == target) found = (cells[2], cells[4]);
            else if (found is { } f && cells[1].Length == 0) found = (f.Status, (f.Note + " " + cells[4]).Trim());
            else if (found is not null) break;
        }
        return found;
    }

    /// <summary>For failure messages: the command and everything it printed.</summary>
    public override string ToString() =>
        $"./build.sh {string.Join(' ', Arguments)} -> exit {ExitCode}\n--- stdout ---\n{StandardOutput}--- stderr ---\n{StandardError}";
}

/// <summary>
/// Runs the real bootstrapper as a child process, in an environment stripped of everything that would change the
/// result from outside the test: CI markers, variables that set build parameters, and MSBuild variables that
/// <c>dotnet test</c> leaves behind.
/// </summary>
public static class BuildScript
{
    /// <summary>The build's parameters, as the build itself writes them into .nuke/build.schema.json on every run (so
    /// a new parameter is covered without a hand-kept list), plus the engine's own. A variable whose letters and digits
    /// match one, ignoring case, sets it, so none may leak in from the test runner's environment.</summary>
    static readonly Lazy<string[]> ParameterNames = new(() =>
    {
        using var schema = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, ".nuke", "build.schema.json")));
        return [.. schema.RootElement.GetProperty("properties").EnumerateObject().Select(p => p.Name).Where(n => !n.StartsWith('$')), "Target", "Skip"];
    });

    static readonly string[] RemovedVariables =
    [
        "CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "COLUMNS", "NO_COLOR",
        "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly",
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
    ];

    /// <summary>Each run gets this long before it is killed (a hang fails the test instead of the whole run).</summary>
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    static string Key(string name) => new string(name.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();

    /// <summary>The variables to remove from (null) or set in the inherited environment.</summary>
    public static Dictionary<string, string?> CleanEnvironment(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var parameterKeys = ParameterNames.Value.Select(Key).ToHashSet();
        var removed = RemovedVariables.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in System.Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (removed.Contains(name) || parameterKeys.Contains(Key(name)))
                environment[name] = null;
        // Git must not read the machine's configuration (signing, hooks paths, default branch...).
        environment["GIT_CONFIG_NOSYSTEM"] = "1";
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        if (overrides is not null)
            foreach (var (name, value) in overrides) environment[name] = value;
        return environment;
    }

    /// <summary>The first build in a fresh clone compiles _build, maybe beside another clone's first build: it gets longer.</summary>
    public static readonly TimeSpan FirstBuildTimeout = TimeSpan.FromMinutes(10);

    public static async Task<BuildRun> RunAsync(string root, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? limit = null)
    {
        var args = arguments.ToList();
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(limit ?? Timeout);
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(Path.Combine(root, "build.sh"), args, new ProcessOptions
            {
                WorkingDirectory = root,
                Environment = CleanEnvironment(environment),
                OnOutput = line => { lock (lines) lines.Add(line); },
            }, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"./build.sh {string.Join(' ', args)} in {root} did not finish within {limit ?? Timeout}; output so far:\n{string.Join('\n', lines)}");
        }
        return new BuildRun(args, result.ExitCode, result.StandardOutput, result.StandardError, lines);
    }

    public static Task<BuildRun> RunAsync(string root, params string[] arguments) => RunAsync(root, arguments, null);
}

/// <summary>Runs git in a directory with the same isolated environment as the builds.</summary>
public static class Git
{
    public static async Task<string> RunAsync(string directory, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("git", arguments, new ProcessOptions
        {
            WorkingDirectory = directory,
            Environment = BuildScript.CleanEnvironment(new Dictionary<string, string?> { ["LC_ALL"] = "C" }),
        });
        if (!result.Succeeded)
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} in {directory} exited with {result.ExitCode}: {result.StandardError}{result.StandardOutput}");
        return result.StandardOutput.TrimEnd();
    }

    public static async Task<IReadOnlyList<string>> LinesAsync(string directory, params string[] arguments) =>
        (await RunAsync(directory, arguments)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static Task<string> HeadAsync(string directory) => RunAsync(directory, "rev-parse", "HEAD");

    public static Task<string> PorcelainAsync(string directory) => RunAsync(directory, "status", "--porcelain");
}

/// <summary>The repository this test project lives in.</summary>
public static class Repository
{
    static readonly Lazy<string> root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(Path.Combine(dir.FullName, ".nuke")))
                return dir.FullName;
        throw new InvalidOperationException($"No folder with build.sh and .nuke/ above {AppContext.BaseDirectory}");
    });

    public static string Root => root.Value;

    public static string NewTempDirectory(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"e2e-{prefix}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDirectory(string path)
    {
        if (!Directory.Exists(path)) return;
        // git makes its object files read-only.
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
            File.SetAttributes(file, FileAttributes.Normal);
        Directory.Delete(path, recursive: true);
    }
}
