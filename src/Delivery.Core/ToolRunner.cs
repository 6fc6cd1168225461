namespace Delivery.Core;

/// <summary>
/// Runs a program with an argument list (never a shell string) for a build: prints the command line, streams each
/// output line to <paramref name="output"/>, and throws a one-line <see cref="DeliveryException"/> on a non-zero exit
/// unless the caller allows failure. Secrets go through <see cref="ProcessOptions.Environment"/> or
/// <see cref="ProcessOptions.StandardInput"/>, never arguments.
/// </summary>
public sealed class ToolRunner(Action<string> log, Action<string> output)
{
    public async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, ProcessOptions? options = null,
        bool allowFailure = false, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        log($"> {Format(program, list)}");
        var callerOutput = options?.OnOutput;
        var streaming = (options ?? new ProcessOptions()) with
        {
            OnOutput = line => { output(line); callerOutput?.Invoke(line); },
        };
        var result = await ProcessRunner.RunAsync(program, list, streaming, cancellationToken);
        if (!result.Succeeded && !allowFailure)
            throw new DeliveryException($"'{Path.GetFileName(program)} {list.FirstOrDefault()}' exited with code {result.ExitCode}");
        return result;
    }

    /// <summary>The command as a POSIX shell would read it back: the program's file name, then each argument,
    /// single-quoted when it holds a blank or a shell metacharacter.</summary>
    public static string Format(string program, IEnumerable<string> arguments) =>
        string.Join(" ", arguments.Select(Quote).Prepend(Path.GetFileName(program)));

    public static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or ';' or '&' or '|' or '$' or '`' or '<' or '>' or '(' or ')' or '*' or '?' or '\\')
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
