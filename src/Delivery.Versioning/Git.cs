using Delivery.Core;

namespace Delivery.Versioning;

/// <summary>Runs the git CLI in a directory with stable, non-interactive settings.</summary>
internal static class Git
{
    static readonly IReadOnlyDictionary<string, string?> StableEnvironment = new Dictionary<string, string?>
    {
        // Messages we match on (e.g. "not a git repository") must not be translated.
        ["LC_ALL"] = "C",
        ["GIT_TERMINAL_PROMPT"] = "0",
    };

    public static Task<ProcessResult> RunAsync(string directory, IEnumerable<string> arguments, CancellationToken ct, string? standardInput = null) =>
        ProcessRunner.RunAsync("git", arguments, Options(directory, standardInput), ct);

    public static Task<ProcessResult> RunCheckedAsync(string directory, IEnumerable<string> arguments, CancellationToken ct, string? standardInput = null) =>
        ProcessRunner.RunCheckedAsync("git", arguments, Options(directory, standardInput), ct);

    public static IReadOnlyList<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Fails with a one-line error unless <paramref name="directory"/> is inside a git work tree.</summary>
    /// <param name="remedy">What the user can do instead, appended to the "not a repository" error.</param>
    public static async Task<ProbeResult> ProbeAsync(string directory, string remedy, CancellationToken ct)
    {
        if (!Directory.Exists(directory))
            throw new DeliveryException($"Directory '{directory}' does not exist");
        var probe = await RunAsync(directory, ["rev-parse", "--is-inside-work-tree", "--is-shallow-repository", "--show-toplevel"], ct);
        if (!probe.Succeeded)
        {
            if (probe.StandardError.Contains("not a git repository", StringComparison.OrdinalIgnoreCase))
                throw new DeliveryException($"'{directory}' is not inside a git repository; {remedy}");
            throw new DeliveryException($"git cannot read the repository at '{directory}': {probe.Tail()}");
        }
        var lines = Lines(probe.StandardOutput);
        if (lines.Count < 2 || lines[0] != "true")
            throw new DeliveryException($"'{directory}' is not inside a git work tree (a bare repository or a .git directory)");
        return new ProbeResult(IsShallow: lines[1] == "true", TopLevel: lines.Count > 2 ? lines[2] : directory);
    }

    /// <summary>HEAD's commit, or null in a repository without commits.</summary>
    public static async Task<string?> HeadShaAsync(string directory, CancellationToken ct)
    {
        var head = await RunAsync(directory, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], ct);
        return head.Succeeded ? head.StandardOutput.Trim() : null;
    }

    /// <summary>The current branch, or null when HEAD is detached.</summary>
    public static async Task<string?> CurrentBranchAsync(string directory, CancellationToken ct)
    {
        var branch = await RunAsync(directory, ["symbolic-ref", "--quiet", "--short", "HEAD"], ct);
        return branch.Succeeded ? branch.StandardOutput.Trim() : null;
    }

    /// <summary>Every tag with the commit it points at (annotated tags peeled).</summary>
    public static async Task<IReadOnlyList<(string Name, string CommitSha)>> TagsAsync(string directory, CancellationToken ct)
    {
        // Ref names cannot contain spaces, so a space separates the fields safely.
        var refs = await RunCheckedAsync(directory,
            ["for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags"], ct);
        var tags = new List<(string, string)>();
        foreach (var line in Lines(refs.StandardOutput))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2) continue;
            tags.Add((fields[0], fields.Length > 2 ? fields[2] : fields[1]));
        }
        return tags;
    }

    /// <summary>Paths of tracked files with staged or unstaged changes.</summary>
    public static async Task<IReadOnlyList<string>> ChangedTrackedFilesAsync(string directory, CancellationToken ct)
    {
        // --no-optional-locks: reading the status must not take the index lock another git process may hold.
        var status = await RunCheckedAsync(directory, ["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"], ct);
        // Each line is "XY path": two status letters (either may be a space), a space, then the path.
        return status.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 3)
            .Select(line => line[3..])
            .ToList();
    }

    static ProcessOptions Options(string directory, string? standardInput) => new()
    {
        WorkingDirectory = directory,
        Environment = StableEnvironment,
        StandardInput = standardInput,
    };
}

internal sealed record ProbeResult(bool IsShallow, string TopLevel);
