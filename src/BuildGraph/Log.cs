namespace BuildGraph;

/// <summary>
/// Logging for targets. Every line goes through the run's secret redaction, so <c>[Secret]</c> parameter values
/// and values passed to <see cref="RegisterSecret"/> are printed as <c>***</c>.
/// </summary>
public static class Log
{
    public static void Information(string message) => Write(message, LogLevel.Information);

    public static void Warning(string message) => Write(message, LogLevel.Warning);

    public static void Error(string message) => Write(message, LogLevel.Error);

    /// <summary>Shown only with <c>--verbose</c>.</summary>
    public static void Debug(string message) => Write(message, LogLevel.Debug);

    /// <summary>One line of a tool's output, streamed as is (after redaction). Safe to call from any thread.</summary>
    public static void Output(string line) => Write(line, LogLevel.Information);

    /// <summary>A status line that replaces the previous one on an interactive terminal (the next ordinary line
    /// clears it); on CI and in redirected output it is an ordinary line.</summary>
    public static void Progress(string message)
    {
        if (BuildSession.Active is { } session) session.Console.Progress(message);
        else System.Console.Out.WriteLine(Fallback.Redact(message));
    }

    /// <summary>Treats a value found at run time (a token, a generated password) as a secret from now on.</summary>
    public static void RegisterSecret(string? value) => Redactor.Add(value);

    /// <summary>The text with every secret replaced by <c>***</c>, for building messages and files that are shown.</summary>
    public static string Redact(string text) => Redactor.Redact(text);

    static SecretRedactor Redactor => BuildSession.Active?.Console.Redactor ?? Fallback;

    static readonly SecretRedactor Fallback = new();

    static void Write(string message, LogLevel level)
    {
        if (BuildSession.Active is { } session)
            session.Console.Line(message, level);
        else if (level != LogLevel.Debug)
            System.Console.Out.WriteLine(Fallback.Redact(message));
    }
}
