using System.Diagnostics;
using Delivery.Core;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>The proxy's own counters, read from "show stat" on its admin socket: a row is a proxy (an environment's
/// frontend and backend share its name) and a server (FRONTEND, BACKEND or a slot).</summary>
public static class ProxyStats
{
    /// <summary>One row, by column name.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> Row(string stateRoot, string proxy, string server)
    {
        var socket = Path.Combine(stateRoot, "proxy", "admin.sock");
        var stat = await ProcessRunner.RunCheckedAsync(Tools.Require("socat", "socat"), ["-", $"UNIX-CONNECT:{socket}"],
            new ProcessOptions { StandardInput = "show stat\n" });
        var lines = stat.StandardOutput.Split('\n');
        var columns = lines[0].TrimStart('#', ' ').Split(',');
        var row = lines.Select(l => l.Split(',')).Single(f => f.Length > 2 && f[0] == proxy && f[1] == server);
        return columns.Zip(row).Where(c => c.First.Length > 0).ToDictionary(c => c.First, c => c.Second);
    }

    /// <summary>A counter of one row; an empty field is 0.</summary>
    public static async Task<long> Counter(string stateRoot, string proxy, string server, string column) =>
        long.TryParse((await Row(stateRoot, proxy, server))[column], out var value) ? value : 0;

    /// <summary>Waits until the environment's frontend has received <paramref name="requests"/> requests more than wrk has
    /// connections: wrk, its only client, has then had at least <paramref name="requests"/> of them answered, however
    /// slowly a loaded machine serves them.</summary>
    public static Task WaitForRequests(HostTestBed bed, DeployEnvironment env, long requests, string what) =>
        WaitFor(bed.StateRoot, $"{bed.Settings.AppName}-{env.Name}", "FRONTEND", "req_tot", requests + Wrk.Connections, TimeSpan.FromMinutes(1), what);

    /// <summary>Waits until the counter reaches <paramref name="least"/>. <paramref name="bound"/> only ends a test whose
    /// counter never gets there, with a message naming it.</summary>
    public static async Task WaitFor(string stateRoot, string proxy, string server, string column, long least, TimeSpan bound, string what)
    {
        var watch = Stopwatch.StartNew();
        long value;
        while ((value = await Counter(stateRoot, proxy, server, column)) < least)
        {
            Assert.True(watch.Elapsed < bound, $"{what}: {proxy}/{server} {column} was still {value} (not {least}) after {bound.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}
