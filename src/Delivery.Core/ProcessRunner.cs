using System.Diagnostics;
using System.Text;

namespace Delivery.Core;

public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The last non-empty lines of stderr (or stdout when stderr is empty), for error messages.</summary>
    public string Tail(int lines = 5)
    {
        var text = string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError;
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", all.TakeLast(lines));
    }
}

public sealed record ProcessOptions
{
    public string? WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
    public string? StandardInput { get; init; }
    /// <summary>Called for each output line (stdout and stderr) as it arrives.</summary>
    public Action<string>? OnOutput { get; init; }
}

/// <summary>
/// Runs a program with an argument list (never a shell string), capturing its output.
/// </summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> arguments, ProcessOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ProcessOptions();
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = options.StandardInput is not null,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? "",
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (options.Environment is not null)
            foreach (var (k, v) in options.Environment)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;

        using var process = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var lockObj = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (lockObj) stdout.AppendLine(e.Data); options.OnOutput?.Invoke(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is null) return; lock (lockObj) stderr.AppendLine(e.Data); options.OnOutput?.Invoke(e.Data); };

        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new DeliveryException($"Cannot run '{fileName}': {ex.Message}. Is it installed and on PATH?", ex);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (options.StandardInput is not null)
        {
            await process.StandardInput.WriteAsync(options.StandardInput);
            process.StandardInput.Close();
        }
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        process.WaitForExit(); // flush async output handlers
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and throws a <see cref="DeliveryException"/> with the output's tail when the exit code is not 0.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(
        string fileName, IEnumerable<string> arguments, ProcessOptions? options = null, CancellationToken cancellationToken = default)
    {
        var args = arguments.ToList();
        var result = await RunAsync(fileName, args, options, cancellationToken);
        if (!result.Succeeded)
            throw new DeliveryException($"'{fileName} {FirstWords(args)}' exited with {result.ExitCode}: {result.Tail()}");
        return result;
    }

    static string FirstWords(IReadOnlyList<string> args) => string.Join(" ", args.Take(2));
}
