using System.Text.RegularExpressions;

namespace EndToEnd.Tests.Infrastructure;

/// <summary>Assertions on what a build printed.</summary>
public static partial class BuildAssert
{
    [GeneratedRegex(@"--- End of (inner exception )?stack trace|^Unhandled exception|^\s*[A-Za-z_][\w.]*Exception(: |$)")]
    private static partial Regex StackTraceLine();

    public static void Succeeded(BuildRun run)
    {
        Assert.True(run.ExitCode == 0, $"Expected exit code 0.\n{run}");
        NoStackTrace(run);
    }

    /// <summary>A line matching <paramref name="match"/> was printed; on failure, shows the whole run to say why not.</summary>
    public static void HasLine(BuildRun run, Func<string, bool> match, string what) =>
        Assert.True(run.OutputLines.Any(match), $"Expected a line: {what}\n{run}");

    public static void Failed(BuildRun run)
    {
        Assert.True(run.ExitCode != 0, $"Expected a non-zero exit code.\n{run}");
        NoStackTrace(run);
    }

    public static void NoStackTrace(BuildRun run)
    {
        var frames = run.Lines.Where(l => l.Contains("   at ", StringComparison.Ordinal) || StackTraceLine().IsMatch(l)).ToList();
        Assert.True(frames.Count == 0, $"Expected no stack trace, found:\n{string.Join('\n', frames)}\n{run}");
    }

    /// <summary>
    /// A usage error: the build fails before any target runs, printing exactly one line, on stderr, and nothing
    /// else. Returns that line.
    /// </summary>
    public static string UsageError(BuildRun run)
    {
        var line = SingleErrorLine(run);
        Assert.True(run.OutputLines.All(string.IsNullOrWhiteSpace), $"Expected nothing on stdout.\n{run}");
        return line;
    }

    /// <summary>A failure reported as exactly one line on stderr (stdout may carry details, such as a diff).</summary>
    public static string SingleErrorLine(BuildRun run)
    {
        Failed(run);
        var errors = run.ErrorLines.ToList();
        Assert.True(errors.Count == 1, $"Expected exactly one line on stderr, got {errors.Count}.\n{run}");
        return errors[0];
    }

    /// <summary>
    /// A target failure: exactly one "Target X failed: message" line, the summary marks X failed, the build ends
    /// with "Build failed", and nothing lands on stderr. Returns the message.
    /// </summary>
    public static string TargetFailure(BuildRun run, string target)
    {
        Failed(run);
        var prefix = $"Target {target} failed: ";
        var failures = run.OutputLines.Where(l => l.StartsWith("Target ", StringComparison.Ordinal) && l.Contains(" failed: ", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count == 1 && failures[0].StartsWith(prefix, StringComparison.Ordinal),
            $"Expected exactly one '{prefix}…' line, got: [{string.Join(" | ", failures)}]\n{run}");
        Assert.True(run.ErrorLines.All(string.IsNullOrWhiteSpace), $"Expected nothing on stderr.\n{run}");
        Assert.Equal("Failed", run.SummaryStatus(target));
        Assert.StartsWith("Build failed", run.OutputLines.Last());
        var message = failures[0][prefix.Length..];
        Assert.False(string.IsNullOrWhiteSpace(message), $"The failure line has no message.\n{run}");
        return message;
    }

    public static void DoesNotContain(BuildRun run, string secret)
    {
        var leaks = run.Lines.Where(l => l.Contains(secret, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, $"'{secret}' appears in the output:\n{string.Join('\n', leaks)}");
    }
}
