using Delivery.Core;

namespace Delivery.Docker;

/// <summary>Where the Docker Engine API listens: a unix socket or a plain TCP address, as DOCKER_HOST spells it.
/// Parsed here (not left to Docker.DotNet) so that a bad DOCKER_HOST fails in one line naming the accepted forms.</summary>
public sealed record DockerEndpoint
{
    public const string DefaultSocketPath = "/var/run/docker.sock";

    /// <summary>The DOCKER_HOST form, e.g. <c>unix:///var/run/docker.sock</c> or <c>tcp://127.0.0.1:2375</c>.</summary>
    public required string Address { get; init; }
    /// <summary>Set for unix sockets; null for TCP.</summary>
    public string? SocketPath { get; init; }
    /// <summary>The endpoint as Docker.DotNet takes it (its scheme picks the transport: unix socket or plain HTTP).</summary>
    public Uri Uri => new(Address);

    public bool IsDefaultLocalSocket => SocketPath == DefaultSocketPath;

    public override string ToString() => Address;

    public static DockerEndpoint Default => Unix(DefaultSocketPath);

    /// <summary>Reads DOCKER_HOST; the default unix socket when it is unset.</summary>
    public static DockerEndpoint FromEnvironment() =>
        Parse(Environment.GetEnvironmentVariable("DOCKER_HOST"), Environment.GetEnvironmentVariable("DOCKER_TLS_VERIFY"));

    public static DockerEndpoint Parse(string? dockerHost, string? tlsVerify = null)
    {
        if (string.IsNullOrWhiteSpace(dockerHost)) return Default;
        var value = dockerHost.Trim();
        if (value.StartsWith("unix://", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["unix://".Length..];
            if (!path.StartsWith('/'))
                throw new DeliveryException($"DOCKER_HOST '{value}' has no absolute socket path: use unix:///path/to/docker.sock");
            return Unix(path);
        }
        if (value.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            if (!string.IsNullOrEmpty(tlsVerify) && tlsVerify != "0")
                throw new DeliveryException($"DOCKER_HOST '{value}' with DOCKER_TLS_VERIFY is not supported: use a unix socket or plain tcp://host:port");
            var rest = value["tcp://".Length..].TrimEnd('/');
            if (!Uri.TryCreate("http://" + rest, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || string.IsNullOrEmpty(uri.Host))
                throw new DeliveryException($"DOCKER_HOST '{value}' is not a valid tcp://host:port address");
            var port = rest.Contains(':') && !rest.EndsWith(']') ? uri.Port : 2375;
            return new DockerEndpoint { Address = $"tcp://{uri.Host}:{port}" };
        }
        throw new DeliveryException($"DOCKER_HOST '{value}' is not supported: use unix:///path/to/docker.sock or tcp://host:port");
    }

    public static DockerEndpoint Unix(string socketPath) => new()
    {
        Address = "unix://" + socketPath,
        SocketPath = socketPath,
    };
}
