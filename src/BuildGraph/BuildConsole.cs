using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace BuildGraph;

internal enum LogLevel { Debug, Information, Warning, Error }

/// <summary>
/// The only way text leaves a run: every line passes the redactor first. Plain lines are written directly (no
/// wrapping, so tool output stays intact); headers and the summary table are rendered by Spectre.Console.
/// </summary>
internal sealed class BuildConsole
{
    readonly object gate = new();
    readonly TextWriter output;
    readonly TextWriter error;
    readonly IAnsiConsole spectre;
    readonly bool ansi;

    public BuildConsole(BuildEnvironment environment, SecretRedactor redactor)
    {
        Redactor = redactor;
        output = environment.Output;
        error = environment.Error ?? environment.Output;
        ansi = environment.Ansi;
        spectre = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
            // The default enrichers switch colors back on for CI systems; CI logs should stay plain.
            Enrichment = new ProfileEnrichment { UseDefaultEnrichers = false },
            EnvironmentVariables = new Dictionary<string, string>(),
        });
        spectre.Profile.Width = environment.Width;
        spectre.Profile.Capabilities.Unicode = environment.Unicode;
        spectre.Profile.Capabilities.Ansi = ansi;
    }

    public SecretRedactor Redactor { get; }

    public bool Verbose { get; set; }

    public void Line(string text, LogLevel level = LogLevel.Information)
    {
        if (level == LogLevel.Debug && !Verbose) return;
        var safe = Redactor.Redact(text);
        var (prefix, color) = level switch
        {
            LogLevel.Warning => ("warning: ", "\u001b[33m"),
            LogLevel.Error => ("", "\u001b[31m"),
            LogLevel.Debug => ("", "\u001b[90m"),
            _ => ("", ""),
        };
        lock (gate)
        {
            EndProgress();
            foreach (var line in safe.Replace("\r\n", "\n").Split('\n'))
                output.WriteLine(ansi && color.Length > 0 ? $"{color}{prefix}{line}\u001b[0m" : prefix + line);
            output.Flush();
        }
    }

    /// <summary>A line exactly as given (after redaction), e.g. a CI workflow command; never colored.</summary>
    public void Raw(string text)
    {
        lock (gate)
        {
            EndProgress();
            output.WriteLine(Redactor.Redact(text));
            output.Flush();
        }
    }

    bool progressShown;

    /// <summary>A status line that replaces itself on an interactive terminal; elsewhere an ordinary line.</summary>
    public void Progress(string text)
    {
        if (!ansi)
        {
            Line(text);
            return;
        }
        lock (gate)
        {
            output.Write("\r\u001b[K" + Redactor.Redact(text).Replace("\n", " "));
            output.Flush();
            progressShown = true;
        }
    }

    void EndProgress()
    {
        if (!progressShown) return;
        output.Write("\r\u001b[K");
        progressShown = false;
    }

    /// <summary>A usage or definition error: one line on the error stream.</summary>
    public void Failure(string message)
    {
        var safe = BuildException.OneLine(Redactor.Redact(message));
        lock (gate)
        {
            error.WriteLine(ansi ? $"\u001b[31m{safe}\u001b[0m" : safe);
            error.Flush();
        }
    }

    public void StackTrace(Exception exception)
    {
        if (Verbose) Line(exception.ToString(), LogLevel.Debug);
    }

    public void Header(string targetName)
    {
        lock (gate)
        {
            EndProgress();
            spectre.Write(new Rule(Markup.Escape(Redactor.Redact(targetName))) { Justification = Justify.Left, Style = new Style(Color.Blue) });
            output.Flush();
        }
    }

    public void Summary(IReadOnlyList<TargetResult> results)
    {
        var table = new Table { Border = TableBorder.Rounded };
        table.AddColumn("Target");
        table.AddColumn("Status");
        table.AddColumn("Duration");
        table.AddColumn("Note");
        foreach (var r in results)
        {
            table.AddRow(
                Cell(r.Name),
                Cell(r.Status.ToString(), StatusColor(r.Status)),
                Cell(r.Status is TargetStatus.Skipped or TargetStatus.NotRun ? "" : FormatDuration(r.Duration)),
                Cell(r.Note ?? ""));
        }
        lock (gate)
        {
            EndProgress();
            output.WriteLine();
            spectre.Write(table);
            output.Flush();
        }
    }

    IRenderable Cell(string text, Color? color = null) =>
        new Text(Redactor.Redact(text), color is { } c ? new Style(c) : Style.Plain);

    static Color? StatusColor(TargetStatus status) => status switch
    {
        TargetStatus.Succeeded => Color.Green,
        TargetStatus.Failed or TargetStatus.Aborted => Color.Red,
        TargetStatus.Skipped => Color.Grey,
        _ => Color.Yellow,
    };

    public static string FormatDuration(TimeSpan duration) =>
        duration < TimeSpan.FromMinutes(1)
            ? duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s"
            : $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s";
}
