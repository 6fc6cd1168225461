using Delivery.Core;

namespace Delivery.Versioning.Tests;

public class ChangelogTests
{
    static readonly DateOnly ReleaseDate = new(2025, 3, 14);

    const string WithHistory = """
        # Changelog

        All notable changes to this project are documented here.

        ## [Unreleased]

        ### Added
        - Zero-downtime deploys.

        ### Fixed
        - Health check timeout.

        ## [1.0.0] - 2025-01-02

        ### Added
        - First release.

        [Unreleased]: https://github.com/acme/webapp/compare/1.0.0...HEAD
        [1.0.0]: https://github.com/acme/webapp/releases/tag/1.0.0

        """;

    [Fact]
    public void Release_moves_the_entries_under_the_version_and_updates_the_links()
    {
        var release = Changelog.Parse(WithHistory).Release(SemanticVersion.Parse("1.1.0"), ReleaseDate);

        Assert.Equal("""
            # Changelog

            All notable changes to this project are documented here.

            ## [Unreleased]

            ## [1.1.0] - 2025-03-14

            ### Added
            - Zero-downtime deploys.

            ### Fixed
            - Health check timeout.

            ## [1.0.0] - 2025-01-02

            ### Added
            - First release.

            [Unreleased]: https://github.com/acme/webapp/compare/1.1.0...HEAD
            [1.1.0]: https://github.com/acme/webapp/compare/1.0.0...1.1.0
            [1.0.0]: https://github.com/acme/webapp/releases/tag/1.0.0

            """, release.Text);
        Assert.Equal("""
            ## [1.1.0] - 2025-03-14

            ### Added
            - Zero-downtime deploys.

            ### Fixed
            - Health check timeout.
            """, release.Section);
    }

    [Fact]
    public void Released_text_parses_again_with_an_empty_unreleased_section()
    {
        var released = Changelog.Parse(Changelog.Parse(WithHistory).Release(SemanticVersion.Parse("1.1.0"), ReleaseDate).Text);

        Assert.Empty(released.UnreleasedEntries);
        Assert.Equal(["1.1.0", "1.0.0"], released.ReleasedVersions);
    }

    [Fact]
    public void First_release_links_to_the_release_tag()
    {
        const string text = """
            # Changelog

            ## [Unreleased]
            - Initial web app.

            [Unreleased]: https://github.com/acme/webapp/commits/main
            """;

        var release = Changelog.Parse(text).Release(SemanticVersion.Parse("0.1.0"), ReleaseDate);

        Assert.Equal("""
            # Changelog

            ## [Unreleased]

            ## [0.1.0] - 2025-03-14

            - Initial web app.

            [Unreleased]: https://github.com/acme/webapp/compare/0.1.0...HEAD
            [0.1.0]: https://github.com/acme/webapp/releases/tag/0.1.0
            """, release.Text);
    }

    [Fact]
    public void Without_a_compare_link_the_previous_version_comes_from_the_latest_section()
    {
        const string text = """
            ## [Unreleased]
            - Faster start.

            ## [2.3.0] - 2025-01-01
            - Older.

            ## [2.2.0] - 2024-12-01
            - Oldest.

            [Unreleased]: https://git.example.test/acme/webapp/
            """;

        var release = Changelog.Parse(text).Release(SemanticVersion.Parse("2.4.0"), ReleaseDate);

        Assert.EndsWith("""
            [Unreleased]: https://git.example.test/acme/webapp/compare/2.4.0...HEAD
            [2.4.0]: https://git.example.test/acme/webapp/compare/2.3.0...2.4.0
            """, release.Text);
    }

    [Fact]
    public void Prefixed_tags_in_the_compare_link_stay_as_the_previous_base()
    {
        const string text = """
            ## [Unreleased]
            - Change.

            [Unreleased]: https://github.com/acme/webapp/compare/v1.0.0...HEAD
            """;

        var release = Changelog.Parse(text).Release(SemanticVersion.Parse("1.0.1"), ReleaseDate);

        Assert.Contains("[1.0.1]: https://github.com/acme/webapp/compare/v1.0.0...1.0.1", release.Text);
    }

    [Fact]
    public void Without_an_unreleased_link_the_links_are_left_as_they_are()
    {
        const string text = """
            ## [Unreleased]
            - Change.

            ## [1.0.0] - 2025-01-02
            - First.

            [1.0.0]: https://example.test/1.0.0
            """;

        var release = Changelog.Parse(text).Release(SemanticVersion.Parse("1.1.0"), ReleaseDate);

        Assert.Equal("""
            ## [Unreleased]

            ## [1.1.0] - 2025-03-14

            - Change.

            ## [1.0.0] - 2025-01-02
            - First.

            [1.0.0]: https://example.test/1.0.0
            """, release.Text);
    }

    [Fact]
    public void Windows_line_endings_are_kept()
    {
        var text = WithHistory.Replace("\n", "\r\n");

        var release = Changelog.Parse(text).Release(SemanticVersion.Parse("1.1.0"), ReleaseDate);

        Assert.DoesNotContain("\n", release.Text.Replace("\r\n", ""));
        Assert.Contains("## [1.1.0] - 2025-03-14\r\n\r\n### Added\r\n- Zero-downtime deploys.", release.Text);
        Assert.EndsWith("releases/tag/1.0.0\r\n", release.Text);
    }

    [Fact]
    public void A_changelog_without_an_unreleased_section_is_refused()
    {
        var error = Assert.Throws<DeliveryException>(() => Changelog.Parse("# Changelog\n\n## [1.0.0] - 2025-01-02\n- First.\n"));

        Assert.Equal("CHANGELOG.md has no '## [Unreleased]' section; add one (https://keepachangelog.com) listing the changes to release", error.Message);
    }

    [Theory]
    [InlineData("## [Unreleased]\n\n## [1.0.0] - 2025-01-02\n- First.\n")]
    [InlineData("## [Unreleased]\n\n### Added\n\n### Fixed\n\n## [1.0.0] - 2025-01-02\n- First.\n")]
    [InlineData("## [Unreleased]\nNothing yet.\n\n[Unreleased]: https://github.com/acme/webapp/compare/1.0.0...HEAD\n")]
    public void An_empty_unreleased_section_is_refused(string text)
    {
        var changelog = Changelog.Parse(text);

        var error = Assert.Throws<DeliveryException>(() => changelog.Release(SemanticVersion.Parse("1.1.0"), ReleaseDate));

        Assert.Empty(changelog.UnreleasedEntries);
        Assert.Equal("CHANGELOG.md's [Unreleased] section has no entries; add at least one '- ' line describing the change before releasing", error.Message);
    }

    [Fact]
    public void A_version_that_already_has_a_section_is_refused()
    {
        var error = Assert.Throws<DeliveryException>(() =>
            Changelog.Parse(WithHistory).Release(SemanticVersion.Parse("1.0.0"), ReleaseDate));

        Assert.Equal("CHANGELOG.md already has a [1.0.0] section or link; pick another version", error.Message);
    }

    [Fact]
    public void Entries_are_read_from_the_unreleased_section_only()
    {
        var changelog = Changelog.Parse(WithHistory);

        Assert.Equal(["- Zero-downtime deploys.", "- Health check timeout."], changelog.UnreleasedEntries);
        Assert.Equal(["1.0.0"], changelog.ReleasedVersions);
    }
}
