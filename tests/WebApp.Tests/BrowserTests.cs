using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

/// <summary>A Chromium-family browser (Debian's Chromium; Chrome or Edge on Ubuntu runners), driven by Playwright,
/// against the app on real Kestrel. ./build.sh Test passes the browser its provisioning plan found as CHROMIUM_PATH.</summary>
public sealed class BrowserTests
{
    private static readonly string ChromiumPath =
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } found ? found : "/usr/bin/chromium";

    /// <summary>Records CSP violations the page reports; runs before any of the page's own scripts.</summary>
    private const string ViolationRecorder = """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', e =>
            window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
        """;

    private static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is required for this test (./build.sh Test installs a browser and sets CHROMIUM_PATH).");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    [Fact]
    public async Task Every_page_loads_under_the_content_security_policy_without_a_violation_or_console_error()
    {
        await using var app = await KestrelApp.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        // Narrow enough for the collapsed navbar, so Bootstrap's script has work to do under the policy.
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 500, Height = 900 } });
        await page.AddInitScriptAsync(ViolationRecorder);
        var problems = new List<string>();
        var notFoundPage = new Uri(app.BaseAddress, "/no-such-page").ToString();
        page.Console += (_, message) =>
        {
            // Chromium logs the 404 page's own status as a failed resource; that one is expected.
            var expected = message.Location.StartsWith(notFoundPage, StringComparison.Ordinal) && message.Text.Contains("status of 404", StringComparison.Ordinal);
            if (message.Type is "error" or "warning" && !expected)
                problems.Add($"console {message.Type}: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        page.RequestFailed += (_, request) => problems.Add($"failed: {request.Url}");

        foreach (var (path, status) in new[] { ("/", 200), ("/cloud", 200), ("/best-practices", 200), ("/no-such-page", 404) })
        {
            var response = await page.GotoAsync(new Uri(app.BaseAddress, path).ToString());
            Assert.Equal(status, response!.Status);
            Assert.Contains("frame-ancestors 'none'", await response.HeaderValueAsync("content-security-policy") ?? "");
            await page.Locator("button.navbar-toggler").ClickAsync();
            await page.Locator("#site-nav.show").WaitForAsync();
            // Bootstrap's stylesheet applies: the navbar is a flex container.
            Assert.Equal("flex", await page.Locator("nav.navbar").EvaluateAsync<string>("e => getComputedStyle(e).display"));
            problems.AddRange((await page.EvaluateAsync<string[]>("() => window.__cspViolations")).Select(v => $"{path}: CSP {v}"));
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task The_violation_check_catches_inline_script_and_style()
    {
        await using var app = KestrelApp.Create();
        app.App.MapGet("/test/inline", () => Results.Content(
            "<!DOCTYPE html><html><head><title>t</title><style>p { color: red }</style></head>" +
            "<body><p style=\"color: blue\">x</p><script>document.title = 'ran'</script></body></html>", "text/html"));
        await app.BeginStartAsync();
        await app.StartTask!;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.AddInitScriptAsync(ViolationRecorder);
        var consoleErrors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") consoleErrors.Add(message.Text); };

        await page.GotoAsync(new Uri(app.BaseAddress, "/test/inline").ToString());
        await page.WaitForFunctionAsync("() => window.__cspViolations.length >= 3");
        var violations = await page.EvaluateAsync<string[]>("() => window.__cspViolations");

        Assert.Equal("t", await page.TitleAsync()); // the inline script did not run
        Assert.Contains(violations, v => v.StartsWith("script-src", StringComparison.Ordinal));
        Assert.Equal(2, violations.Count(v => v.StartsWith("style-src", StringComparison.Ordinal)));
        Assert.NotEmpty(consoleErrors);
    }

    [Fact]
    public async Task Navbar_leads_to_every_page_with_its_heading_and_the_page_is_styled()
    {
        await using var app = await KestrelApp.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
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
            // A web-first assertion that polls the URL, not WaitForURLAsync: when the click returns after the commit
            // (a loaded machine), WaitForURLAsync ignores WaitUntil = Commit and waits for a "load" event instead
            // (microsoft/playwright-dotnet#3365), and CI timed out there twice. The assertions below retry until the new
            // document shows what they expect.
            await Assertions.Expect(page).ToHaveURLAsync(new Uri(app.BaseAddress, path).ToString());
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(heading);
            await Assertions.Expect(page.Locator("nav a.nav-link.active")).ToHaveTextAsync(link);
            await Assertions.Expect(page.Locator("[data-testid=app-environment]")).ToHaveTextAsync("Production");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
