using System.Globalization;
using System.Text;
using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>
/// The release phase of a deploy: one command (migrations, cache warm-up) run once in a container of the new image,
/// with the app's environment and hardening, before any host switches. Given as one line of words; single or double
/// quotes group words, no shell runs it.
/// </summary>
public sealed record ReleasePhaseSettings(string Command)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long the command may run before it is killed and the deploy stops.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Output lines shown (SSM keeps 24,000 characters of a command's output; the summary line must fit too).</summary>
    public int OutputLines { get; init; } = 100;

    /// <summary>The program, then its arguments.</summary>
    public IReadOnlyList<string> Words => Split(Command);

    public void Validate()
    {
        if (Words.Count == 0) throw new DeliveryException("The release command is empty; give a program and its arguments, e.g. --release-command \"dotnet WebApp.dll migrate\".");
        if (Command.Any(char.IsControl)) throw new DeliveryException("The release command must be one line without control characters.");
        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromHours(2))
            throw new DeliveryException($"The release command timeout must be between 1 s and 2 h, not {Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s.");
        if (OutputLines is < 1 or > 1000) throw new DeliveryException($"Release command output lines must be between 1 and 1000, not {OutputLines}.");
    }

    static List<string> Split(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char? quote = null;
        foreach (var c in text)
        {
            if (quote is { } q)
            {
                if (c == q) quote = null; else word.Append(c);
            }
            else if (c is '\'' or '"') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
            }
            else { word.Append(c); inWord = true; }
        }
        if (quote is not null) throw new DeliveryException($"The release command has an unclosed {quote} quote: {text}");
        if (inWord) words.Add(word.ToString());
        return words;
    }
}

/// <summary>How a release phase ended: its exit code, how long it ran, whether its timeout killed it.</summary>
public sealed record ReleasePhaseResult(int ExitCode, TimeSpan Duration, bool TimedOut);

/// <summary>One retained rollback target as <c>Status --verify-rollback</c> found it: <c>ok</c> (on the host and passes
/// its health path), <c>missing</c> (not on the host; the registry still has the digest), <c>unpullable</c> or
/// <c>unhealthy</c>, with the reason.</summary>
public sealed record RollbackTargetCheck(string Version, string Digest, string Image, string Result, string Reason)
{
    public bool Ok => Result == "ok";
}
