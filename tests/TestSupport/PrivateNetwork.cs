using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Delivery.Provisioning;

namespace TestSupport;

/// <summary>
/// A network namespace of this test run's own, joined to this machine by a veth pair on a private 10.x /30: this
/// machine's end is <see cref="HostAddress"/>, the namespace's <see cref="Address"/>. The engine reaches a server in
/// it at a non-loopback address, so the engine's rules for real registries apply (dockerd treats only 127.0.0.0/8 as
/// insecure). Nothing global changes: no /etc file, no route but the veth's own connected one, which goes with the
/// namespace. A run that died before its clean-up leaves a namespace named with its pid; the next run removes it.
/// </summary>
public sealed class PrivateNetwork : IAsyncDisposable
{
    const string Prefix = "hdtn-";

    public string Namespace { get; }
    public string HostInterface { get; }
    public IPAddress HostAddress { get; }
    public IPAddress Address { get; }
    /// <summary>The /30 both ends are on, as ip prints it (10.a.b.c/30).</summary>
    public string Subnet { get; }

    PrivateNetwork(string name, string hostInterface, IPAddress hostAddress, IPAddress address, string subnet)
    {
        Namespace = name;
        HostInterface = hostInterface;
        HostAddress = hostAddress;
        Address = address;
        Subnet = subnet;
    }

    public static async Task<PrivateNetwork> CreateAsync()
    {
        var ip = Tools.Require("ip", "iproute2");
        await RemoveAbandonedAsync(ip);
        var id = Tools.NewRunId();
        var name = $"{Prefix}{Environment.ProcessId}-{id}";
        var (subnet, hostAddress, address) = await FreeSubnetAsync(ip);
        var network = new PrivateNetwork(name, $"vh{id}", hostAddress, address, subnet);
        try
        {
            await Ip(ip, "netns", "add", name);
            await Ip(ip, "link", "add", network.HostInterface, "type", "veth", "peer", "name", $"vn{id}", "netns", name);
            await Ip(ip, "addr", "add", $"{hostAddress}/30", "dev", network.HostInterface);
            await Ip(ip, "link", "set", network.HostInterface, "up");
            await Ip(ip, "netns", "exec", name, ip, "addr", "add", $"{address}/30", "dev", $"vn{id}");
            await Ip(ip, "netns", "exec", name, ip, "link", "set", $"vn{id}", "up");
            await Ip(ip, "netns", "exec", name, ip, "link", "set", "lo", "up");
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>The argument list that runs <paramref name="command"/> inside the namespace (as root).</summary>
    public async Task<IReadOnlyList<string>> CommandAsync(params string[] command) =>
        await Privileged.CommandAsync($"running {command[0]} in network namespace {Namespace}", [Tools.Require("ip", "iproute2"), "netns", "exec", Namespace, .. command]);

    static Task Ip(string ip, params string[] arguments) =>
        Privileged.RunCheckedAsync("a test's private network namespace", [ip, .. arguments]);

    /// <summary>A /30 in 10.240.0.0/12 that no address or route of this machine touches.</summary>
    static async Task<(string Subnet, IPAddress Host, IPAddress Peer)> FreeSubnetAsync(string ip)
    {
        var taken = (await Tools.RunChecked(ip, "-4", "-o", "addr", "show")) + (await Tools.RunChecked(ip, "-4", "route", "show", "table", "all"));
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var b = RandomNumberGenerator.GetInt32(240, 255);
            var c = RandomNumberGenerator.GetInt32(0, 256);
            if (taken.Contains($"10.{b}.{c}.", StringComparison.Ordinal) || taken.Contains($"10.{b}.0.0/16", StringComparison.Ordinal)) continue;
            var d = RandomNumberGenerator.GetInt32(0, 64) * 4;
            return ($"10.{b}.{c}.{d}/30", IPAddress.Parse($"10.{b}.{c}.{d + 1}"), IPAddress.Parse($"10.{b}.{c}.{d + 2}"));
        }
        throw new InvalidOperationException("no free 10.240.0.0/12 subnet for a test network");
    }

    /// <summary>Namespaces of runs whose process is gone (killed before their clean-up).</summary>
    static async Task RemoveAbandonedAsync(string ip)
    {
        var list = await Tools.Run(ip, "netns", "list");
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            if (!int.TryParse(name[Prefix.Length..].Split('-')[0], out var pid) || Alive(pid)) continue;
            await RemoveAsync(ip, name);
        }
    }

    static bool Alive(int pid)
    {
        try { using var process = Process.GetProcessById(pid); return !process.HasExited; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Stops what still runs in the namespace, then deletes it (its veth end goes with it, and so the peer
    /// and the connected route on this machine).</summary>
    static async Task RemoveAsync(string ip, string name)
    {
        var pids = await Privileged.RunAsync("a test's private network namespace", ip, "netns", "pids", name);
        foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            await Privileged.RunAsync("a test's private network namespace", "kill", "-KILL", pid.Trim());
        await Privileged.RunAsync("a test's private network namespace", ip, "netns", "delete", name);
    }

    public async ValueTask DisposeAsync()
    {
        var ip = Tools.Require("ip", "iproute2");
        await RemoveAsync(ip, Namespace);
        // A veth whose namespace was never made still has its end here.
        if ((await Tools.Run(ip, "link", "show", HostInterface)).ExitCode == 0)
            await Privileged.RunAsync("a test's private network namespace", ip, "link", "delete", HostInterface);
    }
}
