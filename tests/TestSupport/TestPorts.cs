using System.Net;
using System.Net.Sockets;

namespace TestSupport;

/// <summary>
/// Ports for servers a test starts later (a registry, HAProxy, Kestrel in a child process). Asking the kernel for
/// port 0 and closing it hands out an ephemeral port (32768-60999 here) that any outgoing connection may take before
/// the server binds it; a CI run lost a test that way. These come from 26000-32699, below that range and above the
/// private ranges the host tests give their beds (20000-24999), and each is claimed with a file in /tmp that names
/// the claiming process, so the test projects that run side by side never hand out the same one.
/// </summary>
public static class TestPorts
{
    const int First = 26000, Count = 6700;
    static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), "delivery-test-ports");
    static int next = Random.Shared.Next(Count);

    public static int Next()
    {
        Directory.CreateDirectory(ClaimDirectory);
        for (var tried = 0; tried < Count; tried++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref next) % Count);
            if (Claim(port) && Free(port)) return port;
        }
        throw new InvalidOperationException($"no free test port in {First}-{First + Count - 1} (claims in {ClaimDirectory})");
    }

    static bool Claim(int port)
    {
        var file = Path.Combine(ClaimDirectory, port.ToString());
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
                stream.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString()));
                return true;
            }
            catch (IOException)
            {
                if (!Stale(file)) return false;
                try { File.Delete(file); } catch (IOException) { return false; }
            }
        }
        return false;
    }

    // A claim is stale when the process that made it has ended (an earlier run, or a test host that crashed): gone, or
    // a zombie its parent has not reaped yet, which binds no port either.
    static bool Stale(string file)
    {
        try
        {
            return int.TryParse(File.ReadAllText(file), out var pid) && pid != Environment.ProcessId && !ProcessState.Running(pid);
        }
        catch (IOException)
        {
            return false;
        }
    }

    static bool Free(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
