using System.Diagnostics;

namespace Aws.TestEndpoint;

/// <summary>
/// One command on one "instance", run for real on this machine the way amazon-ssm-agent's runShellScript plugin runs
/// it on Linux (see README.md for the agent source of each rule): the commands go to <c>_script.sh</c> (mode 0700) in
/// a fresh orchestration folder and run as <c>sh -c _script.sh</c>, as root, in their own process group, with the
/// agent's bare environment. Cancel and the execution timeout SIGKILL the process group, with no TERM first. Statuses
/// as SSM reports them: Pending, InProgress, then Success, Failed, TimedOut (ExecutionTimedOut or DeliveryTimedOut)
/// or Cancelled. Output is captured and cut like SSM cuts it.
/// </summary>
sealed class RunCommandInvocation
{
    public const int StandardOutputLimit = 24_000;
    public const int StandardErrorLimit = 8_000;

    /// <summary>The agent's exit code for a command it killed (appconfig CommandStoppedPreemptivelyExitCode: 128 + SIGKILL).</summary>
    public const int StoppedPreemptivelyExitCode = 137;

    /// <summary>What a systemd service without Environment= or User= gets: PATH and nothing else of a login
    /// (no HOME, USER, LOGNAME, SHELL or TERM).</summary>
    public static readonly IReadOnlyDictionary<string, string> AgentEnvironment = new Dictionary<string, string>
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["LANG"] = "C.UTF-8",
    };

    readonly object gate = new();
    readonly CancellationTokenSource cancel = new();
    Process? process;
    int processGroup;

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

    /// <summary>The folder the agent wrote <c>_script.sh</c> to (kept after the run, as the agent keeps its orchestration folder until it cleans up).</summary>
    public string? ScriptPath { get; private set; }

    /// <summary>The instance's own root filesystem (<see cref="FakeInstance.IsolateRoot"/>): the command runs through
    /// this prefix, which execs it (same pid, same process group) with that / instead of this machine's.</summary>
    public IReadOnlyList<string> Launcher { get; init; } = [];

    /// <summary>How many more GetCommandInvocation calls answer InvocationDoesNotExist, as SSM does right after sending.</summary>
    public int NotYetVisible { get; set; }

    public bool IsTerminal => Status is "Success" or "Failed" or "TimedOut" or "Cancelled";

    /// <summary>Counts against MaxErrors: Failed and Execution Timed Out (not Delivery Timed Out, not Cancelled).</summary>
    public bool IsError => Status == "Failed" || (Status == "TimedOut" && StatusDetails == "ExecutionTimedOut");

    public bool IsDeliveryTimedOut => Status == "TimedOut" && StatusDetails == "DeliveryTimedOut";

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

    /// <summary>The command expired (send + TimeoutSeconds + executionTimeout): an unfinished invocation becomes
    /// Delivery Timed Out. A script still running on the instance is not stopped by that: the agent stops it at its
    /// own execution timeout, and its result no longer counts.</summary>
    public void Expire()
    {
        lock (gate)
        {
            if (IsTerminal) return;
            (Status, StatusDetails, ResponseCode) = ("TimedOut", "DeliveryTimedOut", -1);
            Ended = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>
    /// Writes <c>_script.sh</c> (0700, never over an existing file) from a child process. A descriptor open for writing in
    /// this process is inherited by any child another thread forks at that moment, and until that child execs, the
    /// kernel refuses to exec the script with ETXTBSY ("Text file busy", exit 126 from sh). The test host forks all the
    /// time (docker, wrk, other instances), so the file is never opened for writing here.
    /// </summary>
    static async Task WriteScriptAsync(string path, string text)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false, StandardInputEncoding = new System.Text.UTF8Encoding(false) };
        foreach (var argument in new[] { "-c", "set -C && umask 077 && cat > \"$1\" && chmod 0700 \"$1\"", "sh", path }) psi.ArgumentList.Add(argument);
        using var writer = Process.Start(psi) ?? throw new InvalidOperationException("cannot start sh to write _script.sh");
        await writer.StandardInput.WriteAsync(text);
        writer.StandardInput.Close();
        var error = await writer.StandardError.ReadToEndAsync();
        await writer.WaitForExitAsync();
        if (writer.ExitCode != 0) throw new IOException($"writing {path} failed: {error.Trim()}");
    }

    public async Task RunAsync(IReadOnlyList<string> commands, int executionTimeoutSeconds, IReadOnlyDictionary<string, string> environment)
    {
        // The agent: orchestration/<command id>/awsrunShellScript/0.awsrunShellScript/_script.sh, 0700, lines joined by "\n".
        var orchestration = Directory.CreateTempSubdirectory("ssm-orchestration-");
        try
        {
            var folder = Directory.CreateDirectory(Path.Combine(orchestration.FullName, CommandId, "awsrunShellScript", "0.awsrunShellScript"));
            var script = Path.Combine(folder.FullName, "_script.sh");
            if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the agent's Linux runShellScript needs sh");
            await WriteScriptAsync(script, string.Join("\n", commands) + "\n");
            ScriptPath = script;
            // setsid(1) execs sh in place (same pid) as the leader of a new process group: the agent's Setpgid.
            var psi = new ProcessStartInfo("/usr/bin/setsid")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = folder.FullName,
            };
            foreach (var word in Launcher) psi.ArgumentList.Add(word);
            psi.ArgumentList.Add("sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            psi.Environment.Clear();
            foreach (var (name, value) in AgentEnvironment) psi.Environment[name] = value;
            foreach (var (name, value) in environment) psi.Environment[name] = value;
            var p = new Process { StartInfo = psi };
            lock (gate)
            {
                if (IsTerminal) return; // cancelled or expired while pending
                p.Start();
                process = p;
                processGroup = p.Id;
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
                    KillGroup();
                    await p.WaitForExitAsync();
                }
            }
            // A child that kept the pipes open outlives the shell only until the group kill; after a normal exit
            // the agent, too, waits for the pipes.
            var output = await stdout;
            var error = await stderr;
            lock (gate)
            {
                Ended ??= DateTimeOffset.UtcNow;
                if (IsDeliveryTimedOut) { p.Dispose(); return; } // expired meanwhile: the result no longer counts
                StandardOutput = Cut(output, StandardOutputLimit);
                StandardError = Cut(error, StandardErrorLimit);
                Ended = DateTimeOffset.UtcNow;
                if (cancel.IsCancellationRequested && !timedOut)
                    (Status, StatusDetails, ResponseCode) = ("Cancelled", "Cancelled", StoppedPreemptivelyExitCode);
                else if (timedOut)
                    (Status, StatusDetails, ResponseCode) = ("TimedOut", "ExecutionTimedOut", StoppedPreemptivelyExitCode);
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
            try { orchestration.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>CancelCommand: a pending invocation ends Cancelled without running; a running one is killed.</summary>
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

    /// <summary>The endpoint is going away: whatever still runs is killed (an expired script included).</summary>
    public void Kill()
    {
        Cancel();
        KillGroup();
    }

    /// <summary>The agent's killProcess: syscall.Kill(-pid, SIGKILL), the whole process group, no TERM first, so no
    /// trap of the script runs.</summary>
    void KillGroup()
    {
        if (processGroup > 0) _ = kill(-processGroup, 9);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int signal);

    static string Cut(string text, int limit) => text.Length <= limit ? text : text[..limit];
}
