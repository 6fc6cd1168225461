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

    /// <summary>The proxy of an environment (its frontend and backend): host.sh names it <c>$app-$env_name</c>.</summary>
    public static string Name(string app, DeployEnvironment env) => $"{app}-{env.Name}";

    public static string Name(HostTestBed bed, DeployEnvironment env) => Name(bed.Settings.AppName, env);

    /// <summary>Waits until the environment's frontend has received <paramref name="requests"/> requests that wrk has
    /// had answered (<see cref="WaitForWrk"/>).</summary>
    public static Task WaitForRequests(HostTestBed bed, DeployEnvironment env, long requests, string what) =>
        WaitForWrk(bed.StateRoot, Name(bed, env), "FRONTEND", "req_tot", requests, what);

    /// <summary>Waits until wrk, the proxy's only client, has had at least <paramref name="answers"/> of the counted
    /// answers: the counter must pass them by one per wrk connection, each of which may still have one in flight, however
    /// slowly a loaded machine serves them. The minute only ends a test whose counter never gets there, with a message
    /// naming it.</summary>
    public static async Task WaitForWrk(string stateRoot, string proxy, string server, string column, long answers, string what)
    {
        var least = answers + Wrk.Connections;
        var bound = TimeSpan.FromMinutes(1);
        var watch = Stopwatch.StartNew();
        long value;
        while ((value = await Counter(stateRoot, proxy, server, column)) < least)
        {
            Assert.True(watch.Elapsed < bound, $"{what}: {proxy}/{server} {column} was still {value} (not {least}) after {bound.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}
