using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TestSupport;

/// <summary>A bounded wrk run against 127.0.0.1 (20 connections), started in the background: for a fixed duration
/// (<see cref="Start"/>), or until the test stops it (<see cref="StartUntilStopped"/>).</summary>
public sealed class Wrk : IAsyncDisposable
{
    readonly Process _process;
    readonly Task<string> _output;
    readonly Task<string> _errors;
    readonly TimeSpan _bound;
    public string Url { get; }

    /// <summary>The connections wrk keeps open, each with at most one request in flight: once a server has answered
    /// more than this many requests of a run, wrk has received and counted at least one of them.</summary>
    public const int Connections = 20;

    Wrk(string url, TimeSpan duration)
    {
        Url = url;
        _bound = duration;
        var start = new ProcessStartInfo(Tools.Require("wrk", "wrk")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-t2", $"-c{Connections}", $"-d{(int)Math.Ceiling(duration.TotalSeconds)}s", "--timeout", "5s", url }) start.ArgumentList.Add(a);
        _process = Process.Start(start)!;
        _output = _process.StandardOutput.ReadToEndAsync();
        _errors = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>Load for <paramref name="duration"/>; <see cref="Result"/> waits for its end.</summary>
    public static Wrk Start(int port, TimeSpan duration, string path = "/version") =>
        new($"http://127.0.0.1:{port}{path}", duration);

    /// <summary>Load until <see cref="StopAsync"/>, so it covers whatever the test does meanwhile however long that takes
    /// on a loaded machine; <paramref name="bound"/> only caps a test that never stops it.</summary>
    public static Wrk StartUntilStopped(int port, TimeSpan bound, string path = "/version") =>
        new($"http://127.0.0.1:{port}{path}", bound);

    public async Task<WrkResult> Result()
    {
        await _process.WaitForExitAsync();
        var (output, errors) = (await _output, await _errors);
        Assert.True(_process.ExitCode == 0, $"wrk failed: {errors} {output}");
        return WrkResult.Parse(output);
    }

    /// <summary>Ends the load with SIGINT, on which wrk closes its connections and prints its report as at the end of
    /// its duration. Fails if the load had already ended at its bound: then it did not cover what the test did.</summary>
    public async Task<WrkResult> StopAsync()
    {
        Assert.False(_process.HasExited, $"the load ended at its {_bound.TotalSeconds:0} s bound before the test stopped it");
        Assert.Equal(0, kill(_process.Id, SigInt));
        return await Result();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    const int SigInt = 2;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);
}
