using AngleSharp.Dom;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

public sealed class PageTests(WebAppFactory factory) : IClassFixture<WebAppFactory>
{
    private static readonly (string Href, string Text)[] NavbarLinks =
    [
        ("/", "Home"),
        ("/cloud", "Using the Cloud"),
        ("/best-practices", "Best Practices"),
    ];

    [Fact]
    public async Task Home_page_has_its_heading_and_the_navbar() =>
        await AssertPage("/", "Continuous Development", "Home");

    [Fact]
    public async Task Cloud_page_has_its_heading_and_the_navbar() =>
        await AssertPage("/cloud", "Using the Cloud", "Using the Cloud");

    [Fact]
    public async Task Best_practices_page_has_its_heading_and_the_navbar() =>
        await AssertPage("/best-practices", "Best Practices", "Best Practices");

    [Fact]
    public async Task Footer_shows_the_version_commit_environment_and_start_time_of_the_running_app()
    {
        var info = factory.Services.GetRequiredService<AppInfo>();
        var page = await Html.GetDocumentAsync(factory.CreateClient(), "/cloud");

        Assert.Equal(info.Version, Text(page, "[data-testid=app-version]"));
        Assert.Equal(info.Commit, Text(page, "[data-testid=app-commit]"));
        Assert.Equal(WebAppFactory.Environment, Text(page, "[data-testid=app-environment]"));
        Assert.Equal(info.StartedAtIso, page.QuerySelector("[data-testid=app-started]")!.GetAttribute("datetime"));
        // The test build is not stamped, so the commit is whatever the build found (git) or "unknown" — never empty.
        Assert.Matches("^([0-9a-f]{7}|unknown)$", info.Commit);
    }

    [Fact]
    public async Task Stylesheets_and_scripts_the_layout_references_are_served()
    {
        var client = factory.CreateClient();
        var page = await Html.GetDocumentAsync(client, "/");
        var assets = page.QuerySelectorAll("link[rel=stylesheet]").Select(l => l.GetAttribute("href"))
            .Concat(page.QuerySelectorAll("script[src]").Select(s => s.GetAttribute("src")))
            .Select(url => url!)
            .ToList();

        Assert.Contains(assets, a => a.StartsWith("/lib/bootstrap/css/bootstrap.min", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.StartsWith("/lib/bootstrap/js/bootstrap.bundle.min", StringComparison.Ordinal));
        Assert.Contains(assets, a => a.StartsWith("/css/site", StringComparison.Ordinal));
        foreach (var asset in assets)
        {
            using var response = await client.GetAsync(asset);
            Assert.True(response.IsSuccessStatusCode, $"{asset} returned {(int)response.StatusCode}");
            Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 100, $"{asset} is (nearly) empty");
        }
    }

    [Fact]
    public async Task Unknown_page_returns_404_with_a_friendly_page()
    {
        using var response = await factory.CreateClient().GetAsync("/no-such-page");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(body);
        Assert.Equal("Page not found", page.QuerySelector("h1")?.TextContent.Trim());
        Assert.Equal(3, page.QuerySelectorAll("nav a.nav-link").Length);
    }

    private async Task AssertPage(string path, string heading, string activeLink)
    {
        var page = await Html.GetDocumentAsync(factory.CreateClient(), path);

        var h1 = Assert.Single(page.QuerySelectorAll("h1"));
        Assert.Equal(heading, h1.TextContent.Trim());

        var links = page.QuerySelectorAll("nav a.nav-link")
            .Select(a => (Href: a.GetAttribute("href") ?? "", Text: a.TextContent.Trim()))
            .ToArray();
        Assert.Equal(NavbarLinks, links);

        var active = Assert.Single(page.QuerySelectorAll("nav a.nav-link.active"));
        Assert.Equal(activeLink, active.TextContent.Trim());
        Assert.Equal("page", active.GetAttribute("aria-current"));
        Assert.Single(page.QuerySelectorAll("nav a[aria-current]"));
    }

    private static string Text(IDocument page, string selector) =>
        page.QuerySelector(selector)?.TextContent.Trim() ?? throw new Xunit.Sdk.XunitException($"No element matches {selector}");
}
