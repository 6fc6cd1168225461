using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Aws.TestEndpoint;

/// <summary>
/// An HTTPS proxy (HTTP CONNECT, as a corporate egress proxy) on 127.0.0.1 that stands in for DNS: it tunnels
/// CONNECT host:port to the loopback endpoint registered for that name and refuses (403) every other target. Clients
/// that honour HTTPS_PROXY (the engine, .NET's HttpClient) then reach an AWS host name with their ordinary code path,
/// TLS and SNI included, and this machine's /etc/hosts and resolver stay as they are.
/// </summary>
public sealed class EgressProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly ConcurrentDictionary<string, IPEndPoint> routes = new(StringComparer.OrdinalIgnoreCase);
    readonly ConcurrentQueue<string> tunnels = new();
    readonly CancellationTokenSource stopping = new();
    readonly Task accepting;

    public EgressProxy()
    {
        listener.Start();
        accepting = AcceptAsync();
    }

    /// <summary>The value for HTTPS_PROXY, e.g. http://127.0.0.1:41234.</summary>
    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

    /// <summary>Every CONNECT target asked for, "host:port", routed or not, in order.</summary>
    public IReadOnlyList<string> Tunnels => tunnels.ToArray();

    /// <summary>CONNECT <paramref name="hostPort"/> (e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443") reaches <paramref name="target"/>.</summary>
    public void Route(string hostPort, IPEndPoint target) => routes[hostPort] = target;

    /// <summary>For this process's HttpClients (<c>HttpClient.DefaultProxy</c>): the routed names go through this
    /// proxy, everything else goes as <paramref name="otherwise"/> sends it.</summary>
    public IWebProxy ForRoutedHosts(IWebProxy otherwise) => new RoutedHosts(this, otherwise);

    sealed class RoutedHosts(EgressProxy proxy, IWebProxy otherwise) : IWebProxy
    {
        public ICredentials? Credentials { get; set; }

        bool Routed(Uri uri) => proxy.routes.ContainsKey($"{uri.Host}:{uri.Port}");

        public Uri? GetProxy(Uri destination) => Routed(destination) ? proxy.Url : otherwise.GetProxy(destination);

        public bool IsBypassed(Uri host) => !Routed(host) && otherwise.IsBypassed(host);
    }

    async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = TunnelAsync(client);
        }
    }

    async Task TunnelAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            try
            {
                var head = await ReadHeadAsync(stream);
                var parts = head?.Split('\n')[0].Trim().Split(' ');
                if (parts is not ["CONNECT", var target, _])
                {
                    await WriteAsync(stream, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                tunnels.Enqueue(target);
                if (!routes.TryGetValue(target, out var endpoint))
                {
                    await WriteAsync(stream, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(endpoint, stopping.Token);
                await WriteAsync(stream, "HTTP/1.1 200 Connection established\r\n\r\n");
                var other = upstream.GetStream();
                var up = stream.CopyToAsync(other, stopping.Token);
                var down = other.CopyToAsync(stream, stopping.Token);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A client or the front hung up: the tunnel ends with it.
            }
        }
    }

    /// <summary>The request head, up to the blank line (byte by byte: nothing of the tunnel is read ahead).</summary>
    static async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 16384)
        {
            if (await stream.ReadAsync(one) == 0) return null;
            head.Add(one[0]);
            if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r')
                return Encoding.ASCII.GetString(head.ToArray());
        }
        return null;
    }

    static Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        stopping.Dispose();
    }
}
