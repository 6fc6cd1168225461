using Microsoft.Playwright;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

/// <summary>Debian's Chromium, driven by Playwright, against the app on real Kestrel.</summary>
public sealed class BrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task Navbar_leads_to_every_page_with_its_heading_and_the_page_is_styled()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is required for this test (Debian package 'chromium').");
        await using var app = await KestrelApp.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var problems = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") problems.Add($"console: {message.Text}"); };
        page.Response += (_, response) => { if (response.Status >= 400) problems.Add($"{response.Status} {response.Url}"); };
        page.RequestFailed += (_, request) => problems.Add($"failed: {request.Url}");

        await page.GotoAsync(new Uri(app.BaseAddress, "/").ToString());
        Assert.Equal("Continuous Development", (await page.Locator("h1").InnerTextAsync()).Trim());
        // Bootstrap's stylesheet is loaded and applied: its navbar is a flex container.
        Assert.Equal("flex", await page.Locator("nav.navbar").EvaluateAsync<string>("e => getComputedStyle(e).display"));

        (string Link, string Path, string Heading)[] tour =
        [
            ("Using the Cloud", "/cloud", "Using the Cloud"),
            ("Best Practices", "/best-practices", "Best Practices"),
            ("Home", "/", "Continuous Development"),
        ];
        foreach (var (link, path, heading) in tour)
        {
            await page.Locator("nav a.nav-link", new PageLocatorOptions { HasTextString = link }).ClickAsync();
            await page.WaitForURLAsync(new Uri(app.BaseAddress, path).ToString());
            Assert.Equal(heading, (await page.Locator("h1").InnerTextAsync()).Trim());
            Assert.Equal(link, (await page.Locator("nav a.nav-link.active").InnerTextAsync()).Trim());
            Assert.Equal("Production", (await page.Locator("[data-testid=app-environment]").InnerTextAsync()).Trim());
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
