using System.Diagnostics;

namespace TestSupport;

/// <summary>A bounded wrk run against 127.0.0.1 (20 connections, fixed duration), started in the background.</summary>
public sealed class Wrk
{
    readonly Task<Delivery.Core.ProcessResult> _run;
    public string Url { get; }

    Wrk(string url, TimeSpan duration)
    {
        Url = url;
        var wrk = Tools.Require("wrk", "wrk");
        _run = Delivery.Core.ProcessRunner.RunAsync(wrk, ["-t2", "-c20", $"-d{(int)duration.TotalSeconds}s", "--timeout", "5s", url]);
    }

    public static Wrk Start(int port, TimeSpan duration, string path = "/version") =>
        new($"http://127.0.0.1:{port}{path}", duration);

    public async Task<WrkResult> Result()
    {
        var result = await _run;
        Assert.True(result.Succeeded, $"wrk failed: {result.StandardError} {result.StandardOutput}");
        return WrkResult.Parse(result.StandardOutput);
    }
}
