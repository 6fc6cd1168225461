using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class ApiVersionTests
{
    [Theory]
    [InlineData("1.41", "1.41")] // Debian's docker.io 20.10
    [InlineData("1.47", "1.47")]
    [InlineData("1.52", "1.52")]
    [InlineData("1.54", "1.52")] // newer than Docker.DotNet.Enhanced 4.3 knows: speak what it knows
    public void The_engines_version_is_used_up_to_what_the_library_knows(string engine, string expected) =>
        Assert.Equal(Version.Parse(expected), DockerEngineClient.NegotiateApiVersion(engine, "Docker Engine 99 at unix:///x.sock"));

    [Fact]
    public void An_engine_older_than_1_41_is_refused_in_one_line()
    {
        var error = Assert.Throws<DeliveryException>(() => DockerEngineClient.NegotiateApiVersion("1.40", "Docker Engine 19.03.15 at unix:///var/run/docker.sock"));

        Assert.Equal("Docker Engine 19.03.15 at unix:///var/run/docker.sock speaks API 1.40; API 1.41 or newer is needed", error.Message);
    }

    [Fact]
    public void A_garbled_version_is_refused_in_one_line()
    {
        var error = Assert.Throws<DeliveryException>(() => DockerEngineClient.NegotiateApiVersion("", "Docker Engine ? at tcp://h:2375"));

        Assert.Equal("Docker Engine ? at tcp://h:2375 reports API version '', which is not a version", error.Message);
    }
}
