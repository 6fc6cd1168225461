using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class DockerEndpointTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Unset_means_the_default_socket(string? value)
    {
        var endpoint = DockerEndpoint.Parse(value);
        Assert.Equal("/var/run/docker.sock", endpoint.SocketPath);
        Assert.Equal("unix:///var/run/docker.sock", endpoint.Address);
        Assert.True(endpoint.IsDefaultLocalSocket);
    }

    [Fact]
    public void A_unix_path_is_used_as_is()
    {
        var endpoint = DockerEndpoint.Parse("unix:///run/user/1000/docker.sock");
        Assert.Equal("/run/user/1000/docker.sock", endpoint.SocketPath);
        Assert.False(endpoint.IsDefaultLocalSocket);
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:2376", "tcp://127.0.0.1:2376/", "tcp://127.0.0.1:2376")]
    [InlineData("tcp://docker-host", "tcp://docker-host:2375/", "tcp://docker-host:2375")]
    public void Tcp_keeps_its_port_or_gets_2375(string value, string uri, string address)
    {
        var endpoint = DockerEndpoint.Parse(value);
        Assert.Null(endpoint.SocketPath);
        Assert.Equal(uri, endpoint.Uri.ToString());
        Assert.Equal(address, endpoint.Address);
    }

    [Theory]
    [InlineData("ssh://me@host", "not supported")]
    [InlineData("unix://relative.sock", "no absolute socket path")]
    [InlineData("tcp://host:notaport", "not a valid")]
    public void Unsupported_values_are_one_line_errors(string value, string expected)
    {
        var error = Assert.Throws<DeliveryException>(() => DockerEndpoint.Parse(value));
        Assert.Contains(expected, error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public void Tls_is_refused_rather_than_silently_sent_in_clear()
    {
        Assert.Throws<DeliveryException>(() => DockerEndpoint.Parse("tcp://host:2376", tlsVerify: "1"));
    }
}
