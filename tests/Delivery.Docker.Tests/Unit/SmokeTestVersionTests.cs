namespace Delivery.Docker.Tests.Unit;

public sealed class SmokeTestVersionTests
{
    [Theory]
    [InlineData("""{"version":"1.2.3","commit":"abc"}""", "1.2.3")]
    [InlineData("""{"Version":"1.2.3-rc.1"}""", "1.2.3-rc.1")]
    [InlineData("""{"informationalVersion":"1.2.3+abc"}""", "1.2.3+abc")]
    [InlineData("1.2.3\n", "1.2.3")]
    [InlineData("\"1.2.3\"", "1.2.3")]
    public void Reads_json_or_plain_text(string body, string expected) => Assert.Equal(expected, SmokeTest.ReadVersion(body));

    [Theory]
    [InlineData("1.2.3", "1.2.3", true)]
    [InlineData("1.2.3+abc1234", "1.2.3", true)]
    [InlineData("1.2.3+abc1234", "1.2.3+def", false)]
    [InlineData("1.2.3", "1.2.3+build.5", true)]
    [InlineData("1.2.4", "1.2.3+build.5", false)]
    [InlineData("1.2.4", "1.2.3", false)]
    [InlineData("1.2.3-rc.1", "1.2.3", false)]
    public void Matches_exactly_or_ignoring_build_metadata(string reported, string expected, bool matches) =>
        Assert.Equal(matches, SmokeTest.VersionMatches(reported, expected));
}
