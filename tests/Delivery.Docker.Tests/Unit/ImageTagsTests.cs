using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class ImageTagsTests
{
    [Fact]
    public void A_prerelease_on_a_feature_branch_gets_the_version_and_sha_only()
    {
        var tags = ImageTags.Compute("1.3.0-alpha.4+5", "ABC1234", isRelease: false, branchName: "feature/x");
        Assert.Equal(["1.3.0-alpha.4-5", "sha-abc1234"], tags);
    }

    [Fact]
    public void The_main_branch_also_gets_main()
    {
        var tags = ImageTags.Compute("1.3.0-alpha.4", "abc1234", isRelease: false, branchName: "main");
        Assert.Equal(["1.3.0-alpha.4", "main", "sha-abc1234"], tags);
    }

    [Fact]
    public void A_full_ref_name_of_main_counts_as_main()
    {
        Assert.Contains("main", ImageTags.Compute("1.0.0", "abc1234", false, "refs/heads/main"));
    }

    [Fact]
    public void A_custom_main_branch_name_is_used()
    {
        var tags = ImageTags.Compute("2.0.0-rc.1", "abc1234", false, "trunk", mainBranch: "trunk");
        Assert.Equal(["2.0.0-rc.1", "trunk", "sha-abc1234"], tags);
        Assert.DoesNotContain("main", ImageTags.Compute("2.0.0-rc.1", "abc1234", false, "main", mainBranch: "trunk"));
    }

    [Fact]
    public void A_release_gets_release_and_plain_version_without_duplicates()
    {
        var tags = ImageTags.Compute("1.2.3", "abc1234", isRelease: true, branchName: "main");
        Assert.Equal(["1.2.3", "release-1.2.3", "main", "sha-abc1234"], tags);
    }

    [Fact]
    public void A_release_tag_with_build_metadata_keeps_it_only_in_the_version_tag()
    {
        var tags = ImageTags.Compute("1.2.3+build.5", "abc1234", isRelease: true, branchName: null);
        Assert.Equal(["1.2.3-build.5", "release-1.2.3", "1.2.3", "sha-abc1234"], tags);
    }

    [Fact]
    public void A_detached_head_gets_no_branch_tag()
    {
        Assert.Equal(["1.2.3", "release-1.2.3", "sha-abc1234"], ImageTags.Compute("1.2.3", "abc1234", true, null));
    }

    [Theory]
    [InlineData("1.2.3/evil", "1.2.3/evil")]
    [InlineData("-1.2.3", "-1.2.3")]
    [InlineData("1.2.3 beta", "1.2.3 beta")]
    public void An_invalid_version_is_named_in_a_one_line_error(string version, string named)
    {
        var error = Assert.Throws<DeliveryException>(() => ImageTags.Compute(version, "abc1234", false, "main"));
        Assert.Contains($"'{named}'", error.Message);
        Assert.Contains("not a valid Docker tag", error.Message);
    }

    [Fact]
    public void A_too_long_tag_is_rejected()
    {
        var error = Assert.Throws<DeliveryException>(() => ImageTags.Compute("1.0.0-" + new string('a', 130), "abc1234", false, null));
        Assert.Contains("not a valid Docker tag", error.Message);
    }

    [Fact]
    public void A_main_branch_name_that_is_not_a_tag_is_rejected()
    {
        var error = Assert.Throws<DeliveryException>(() => ImageTags.Compute("1.0.0", "abc1234", false, "release/1", mainBranch: "release/1"));
        Assert.Contains("'release/1'", error.Message);
    }

    [Fact]
    public void Empty_inputs_are_rejected()
    {
        Assert.Throws<DeliveryException>(() => ImageTags.Compute("", "abc1234", false, null));
        Assert.Throws<DeliveryException>(() => ImageTags.Compute("1.0.0", " ", false, null));
    }

    [Fact]
    public void References_join_repository_and_tags_and_validate_the_repository()
    {
        Assert.Equal(["127.0.0.1:5000/webapp:1.0.0", "127.0.0.1:5000/webapp:sha-abc1234"],
            ImageTags.References("127.0.0.1:5000/webapp", ["1.0.0", "sha-abc1234"]));
        Assert.Throws<DeliveryException>(() => ImageTags.References("WebApp", ["1.0.0"]));
    }

    [Theory]
    [InlineData("1.4.0", "production,release-1.4.0")]
    [InlineData("1.4.0-rc.1+build.5", "production,release-1.4.0-rc.1-build.5")]
    [InlineData("unknown", "production")]
    [InlineData("", "production")]
    public void A_promotion_tags_production_and_the_release(string version, string expected) =>
        Assert.Equal(expected, string.Join(",", ImageTags.Promotion(version)));
}
