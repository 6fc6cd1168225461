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

    /// <summary>The roll stopped before this instance (MaxErrors reached): it ends Cancelled without having run.</summary>
    public void NotReached()
    {
        lock (gate)
        {
            if (IsTerminal) return;
            (Status, StatusDetails, ResponseCode) = ("Cancelled", "Cancelled", -1);
            Ended = DateTimeOffset.UtcNow;
        }
    }

    public async Task RunAsync(IReadOnlyList<string> commands, int executionTimeoutSeconds, IReadOnlyDictionary<string, string> environment)
    {
        var directory = Directory.CreateTempSubdirectory("aws-test-endpoint-");
        try
        {
            var script = Path.Combine(directory.FullName, "_script.sh");
            await File.WriteAllTextAsync(script, string.Join("\n", commands) + "\n");
            // Its own session, so a cancel can signal the whole process group, as the agent stops a command.
            var psi = new ProcessStartInfo("setsid")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = directory.FullName,
            };
            psi.ArgumentList.Add("bash");
            psi.ArgumentList.Add(script);
            foreach (var (name, value) in environment) psi.Environment[name] = value;
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
                    await StopAsync(p);
                }
            }
            var output = await stdout;
            var error = await stderr;
            lock (gate)
            {
                StandardOutput = Cut(output, StandardOutputLimit);
                StandardError = Cut(error, StandardErrorLimit);
                Ended = DateTimeOffset.UtcNow;
                if (cancel.IsCancellationRequested && !timedOut)
                {
                    (Status, StatusDetails, ResponseCode) = ("Cancelled", "Cancelled", -1);
                }
                else if (timedOut)
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
            if (IsTerminal || Status == "Cancelling") return;
            if (process is null)
            {
                (Status, StatusDetails, ResponseCode) = ("Cancelled", "Cancelled", -1);
                Ended = DateTimeOffset.UtcNow;
            }
            else Status = StatusDetails = "Cancelling";
        }
        cancel.Cancel();
    }

    /// <summary>SIGTERM to the command's process group, so its traps run (a deploy releases its lock), then SIGKILL
    /// to whatever is left after a grace period.</summary>
    static async Task StopAsync(Process p)
    {
        try
        {
            _ = kill(-p.Id, 15);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await p.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { p.Kill(entireProcessTree: true); await p.WaitForExitAsync(); }
            _ = kill(-p.Id, 9);
        }
        catch (InvalidOperationException) { }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int signal);

    static string Cut(string text, int limit) => text.Length <= limit ? text : text[..limit];
}
