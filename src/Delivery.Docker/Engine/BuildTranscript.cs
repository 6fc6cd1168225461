using System.Text;
using System.Text.RegularExpressions;

namespace Delivery.Docker;

/// <summary>
/// Reassembles the build's "stream" chunks into lines (the engine splits them arbitrarily), remembers the current
/// step and that step's own output so a failure can name both.
/// </summary>
internal sealed partial class BuildTranscript(Action<string>? onOutput)
{
    const int MaxStepLines = 50;
    readonly StringBuilder pending = new();
    readonly Queue<string> stepOutput = new();

    public string? CurrentStep { get; private set; }
    public string? LastLine { get; private set; }
    public string? SuccessfullyBuiltId { get; private set; }
    public IReadOnlyList<string> CurrentStepOutput => stepOutput.ToList();

    public void Append(string text)
    {
        pending.Append(text);
        var buffered = pending.ToString();
        var start = 0;
        int newline;
        while ((newline = buffered.IndexOf('\n', start)) >= 0)
        {
            Emit(buffered[start..newline].TrimEnd('\r'));
            start = newline + 1;
        }
        pending.Clear().Append(buffered, start, buffered.Length - start);
    }

    public void Flush()
    {
        if (pending.Length == 0) return;
        Emit(pending.ToString().TrimEnd('\r'));
        pending.Clear();
    }

    void Emit(string line)
    {
        // The classic builder wraps a RUN step's stderr in ANSI colour codes.
        line = AnsiEscape().Replace(line, "");
        onOutput?.Invoke(line);
        if (line.Trim().Length > 0) LastLine = line;

        if (StepLine().Match(line) is { Success: true } step)
        {
            var instruction = step.Groups[2].Value.Trim();
            if (instruction.Length > 120) instruction = instruction[..117] + "...";
            CurrentStep = $"step {step.Groups[1].Value} ({instruction})";
            stepOutput.Clear();
            return;
        }
        if (line.StartsWith("Successfully built ", StringComparison.Ordinal))
            SuccessfullyBuiltId = line["Successfully built ".Length..].Trim();
        // The engine's own bookkeeping lines are not the step's output.
        if (line.Trim().Length == 0 || line.StartsWith(" ---> ", StringComparison.Ordinal) ||
            line.StartsWith("Removing intermediate container", StringComparison.Ordinal))
            return;
        stepOutput.Enqueue(line);
        if (stepOutput.Count > MaxStepLines) stepOutput.Dequeue();
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"^Step (\d+/\d+) : (.*)$")]
    private static partial Regex StepLine();
}
