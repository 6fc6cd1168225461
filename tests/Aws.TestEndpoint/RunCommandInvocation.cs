using System.Diagnostics;
using System.Text;

namespace Aws.TestEndpoint;

/// <summary>
/// One command on one "instance", run for real with bash on this machine, going through the statuses SSM reports:
/// Pending, InProgress, then Success, Failed, TimedOut or Cancelled. Output is captured and cut like SSM cuts it.
/// </summary>
sealed class RunCommandInvocation
{
    public const int StandardOutputLimit = 24_000;
    public const int StandardErrorLimit = 8_000;

    readonly object gate = new();
    readonly CancellationTokenSource cancel = new();
    Process? process;

    public RunCommandInvocation(string commandId, string instanceId, string comment)
    {
        CommandId = commandId;
        InstanceId = instanceId;
        Comment = comment;
    }

    public string CommandId { get; }
    public string InstanceId { get; }
    public string Comment { get; }
    public string Status { get; private set; } = "Pending";
    public string StatusDetails { get; private set; } = "Pending";
    public int ResponseCode { get; private set; } = -1;
    public string StandardOutput { get; private set; } = "";
    public string StandardError { get; private set; } = "";
    public DateTimeOffset? Started { get; private set; }
    public DateTimeOffset? Ended { get; private set; }

    /// <summary>How many more GetCommandInvocation calls answer InvocationDoesNotExist, as SSM does right after sending.</summary>
    public int NotYetVisible { get; set; }

    public bool IsTerminal => Status is "Success" or "Failed" or "TimedOut" or "Cancelled";

    public object Gate => gate;

    public void Start(IReadOnlyList<string> commands, int executionTimeoutSeconds) =>
        _ = Task.Run(() => RunAsync(commands, executionTimeoutSeconds));

    async Task RunAsync(IReadOnlyList<string> commands, int executionTimeoutSeconds)
    {
        var directory = Directory.CreateTempSubdirectory("aws-test-endpoint-");
        try
        {
            var script = Path.Combine(directory.FullName, "_script.sh");
            await File.WriteAllTextAsync(script, string.Join("\n", commands) + "\n");
            var psi = new ProcessStartInfo("bash")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = directory.FullName,
            };
            psi.ArgumentList.Add(script);
            var p = new Process { StartInfo = psi };
            lock (gate)
            {
                if (IsTerminal) return; // cancelled while pending
                p.Start();
                process = p;
                Status = StatusDetails = "InProgress";
                Started = DateTimeOffset.UtcNow;
            }
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            var timedOut = false;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(executionTimeoutSeconds));
                try { await p.WaitForExitAsync(timeout.Token); }
                catch (OperationCanceledException)
                {
                    timedOut = !cancel.IsCancellationRequested;
                    Kill(p);
                    await p.WaitForExitAsync();
                }
            }
            var output = await stdout;
            var error = await stderr;
            lock (gate)
            {
                if (Status == "Cancelled") return;
                StandardOutput = Cut(output, StandardOutputLimit);
                StandardError = Cut(error, StandardErrorLimit);
                Ended = DateTimeOffset.UtcNow;
                if (timedOut)
                {
                    (Status, StatusDetails, ResponseCode) = ("TimedOut", "ExecutionTimedOut", -1);
                }
                else
                {
                    ResponseCode = p.ExitCode;
                    Status = StatusDetails = p.ExitCode == 0 ? "Success" : "Failed";
                }
            }
            p.Dispose();
        }
        catch (Exception ex)
        {
            lock (gate)
            {
                (Status, StatusDetails, ResponseCode) = ("Failed", "Undeliverable", -1);
                StandardError = ex.Message;
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Stops the command: its whole process tree, like the agent does.</summary>
    public void Cancel()
    {
        lock (gate)
        {
            if (IsTerminal) return;
            Status = StatusDetails = "Cancelled";
            Ended = DateTimeOffset.UtcNow;
            if (process is { } p) Kill(p);
        }
        cancel.Cancel();
    }

    static void Kill(Process p)
    {
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    static string Cut(string text, int limit) => text.Length <= limit ? text : text[..limit];
}
