using Delivery.Core;

namespace Delivery.Versioning.Tests;

public class SemanticVersionTests
{
    [Theory]
    [InlineData("0.0.0", 0, 0, 0, "", null)]
    [InlineData("1.2.3", 1, 2, 3, "", null)]
    [InlineData("10.20.30", 10, 20, 30, "", null)]
    [InlineData("1.2.3-rc.1", 1, 2, 3, "rc.1", null)]
    [InlineData("1.2.4-alpha.0.5", 1, 2, 4, "alpha.0.5", null)]
    [InlineData("1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", null)]
    [InlineData("1.0.0+build.01", 1, 0, 0, "", "build.01")]
    [InlineData("1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta", "exp.sha.5114f85")]
    [InlineData("2147483647.0.0", int.MaxValue, 0, 0, "", null)]
    public void Parses_valid_versions(string text, int major, int minor, int patch, string preRelease, string? build)
    {
        var version = SemanticVersion.Parse(text);

        Assert.Equal((major, minor, patch), (version.Major, version.Minor, version.Patch));
        Assert.Equal(preRelease, version.PreRelease);
        Assert.Equal(preRelease.Length > 0, version.IsPreRelease);
        Assert.Equal(build, version.BuildMetadata);
        Assert.Equal(text, version.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1.2")]
    [InlineData("1.2.3.4")]
    [InlineData("v1.2.3")]
    [InlineData(" 1.2.3")]
    [InlineData("1.2.3 ")]
    [InlineData("01.2.3")]
    [InlineData("1.02.3")]
    [InlineData("1.2.03")]
    [InlineData("-1.2.3")]
    [InlineData("1.2.3-")]
    [InlineData("1.2.3-01")]
    [InlineData("1.2.3-rc..1")]
    [InlineData("1.2.3-rc.1.")]
    [InlineData("1.2.3-rc_1")]
    [InlineData("1.2.3+")]
    [InlineData("1.2.3+a..b")]
    [InlineData("1.2.3+a+b")]
    [InlineData("1.a.3")]
    [InlineData("2147483648.0.0")]
    [InlineData("latest")]
    public void Rejects_invalid_versions(string text)
    {
        Assert.False(SemanticVersion.TryParse(text, out var version));
        Assert.Null(version);
        var error = Assert.Throws<DeliveryException>(() => SemanticVersion.Parse(text));
        Assert.Contains($"'{text}' is not a valid SemVer 2.0 version", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    // Ascending precedence, from the SemVer 2.0 spec (item 11) plus numeric-vs-alphanumeric edge cases.
    static readonly string[] Ascending =
    [
        "0.9.9",
        "1.0.0-0",
        "1.0.0-2",
        "1.0.0-10",
        "1.0.0-123456789012345678901234567890",
        "1.0.0-9a",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.1.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1-alpha.0.1",
        "1.0.1",
        "1.1.0",
        "1.10.0",
        "2.0.0",
        "10.0.0",
    ];

    public static TheoryData<string, string> AdjacentPairs()
    {
        var data = new TheoryData<string, string>();
        for (var i = 0; i + 1 < Ascending.Length; i++) data.Add(Ascending[i], Ascending[i + 1]);
        return data;
    }

    [Theory]
    [MemberData(nameof(AdjacentPairs))]
    public void Orders_by_semver_precedence(string lower, string higher)
    {
        var low = SemanticVersion.Parse(lower);
        var high = SemanticVersion.Parse(higher);

        Assert.True(low < high, $"{lower} < {higher}");
        Assert.True(high > low, $"{higher} > {lower}");
        Assert.True(low.CompareTo(high) < 0);
        Assert.True(high.CompareTo(low) > 0);
        Assert.NotEqual(low, high);
    }

    [Fact]
    public void Sorting_a_shuffled_list_gives_the_precedence_order()
    {
        var shuffled = Ascending.Reverse().Where((_, i) => i % 2 == 0).Concat(Ascending.Reverse().Where((_, i) => i % 2 == 1));

        var sorted = shuffled.Select(SemanticVersion.Parse).Order().Select(v => v.ToString());

        Assert.Equal(Ascending, sorted);
    }

    [Fact]
    public void Build_metadata_is_ignored_by_precedence_and_equality()
    {
        var plain = SemanticVersion.Parse("1.2.3-rc.1");
        var withBuild = SemanticVersion.Parse("1.2.3-rc.1+build.7");

        Assert.Equal(0, plain.CompareTo(withBuild));
        Assert.True(plain == withBuild);
        Assert.Equal(plain.GetHashCode(), withBuild.GetHashCode());
        Assert.Equal("1.2.3-rc.1", withBuild.WithoutBuildMetadata().ToString());
    }

    [Fact]
    public void Constructor_rejects_invalid_pre_release_identifiers()
    {
        Assert.Throws<DeliveryException>(() => new SemanticVersion(1, 0, 0, ["alpha", "01"]));
        Assert.Throws<DeliveryException>(() => new SemanticVersion(1, 0, 0, ["al pha"]));
        Assert.Throws<DeliveryException>(() => new SemanticVersion(-1, 0, 0));
        Assert.Equal("1.0.0-alpha.0", new SemanticVersion(1, 0, 0, ["alpha", "0"]).ToString());
    }
}
