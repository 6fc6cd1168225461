using System.Diagnostics;
using System.Runtime.InteropServices;
using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>
/// Runs host scripts on this machine with bash. The script goes to a private temporary file (not the command line,
/// not stdin, which the commands inside may read). bash runs in its own session, so a terminal's Ctrl-C reaches
/// only the build; cancellation then sends SIGTERM to the script's process group, whose exit trap cleans up and
/// releases the lock.
/// </summary>
public sealed class LocalHost : IDeployHost
{
    public string Name => "local";

    /// <summary>How long a cancelled script may spend in its exit trap before it is killed.</summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(60);

    public async Task<HostResult> RunAsync(string script, Action<string>? onOutput = null, CancellationToken cancellationToken = default)
    {
        var file = Path.Combine(Path.GetTempPath(), $"webapp-deploy-{Guid.NewGuid():N}.sh");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(file, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options))
            writer.Write(script);
        try
        {
            return await RunFileAsync(file, onOutput, cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }

    async Task<HostResult> RunFileAsync(string file, Action<string>? onOutput, CancellationToken cancellationToken)
    {
        var ownSession = File.Exists("/usr/bin/setsid");
        var psi = new ProcessStartInfo(ownSession ? "/usr/bin/setsid" : "bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (ownSession) psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add(file);

        var lines = new List<string>();
        using var process = new Process { StartInfo = psi };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (lines) lines.Add(line);
            onOutput?.Invoke(line);
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new DeliveryException($"Cannot run bash on this machine: {ex.Message}", ex);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // setsid made bash a session (and process group) leader: signal the whole group, the way a terminal would.
            var target = ownSession ? -process.Id : process.Id;
            _ = kill(target, SIGTERM);
            using var grace = new CancellationTokenSource(CancelGrace);
            try { await process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { _ = kill(target, SIGKILL); }
            throw;
        }
        process.WaitForExit();
        lock (lines) return new HostResult(process.ExitCode, lines.ToList());
    }

    const int SIGKILL = 9;
    const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);
}
