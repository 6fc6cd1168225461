using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WebApp.Hosting;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

/// <summary>Security and cache headers as real Kestrel sends them.</summary>
public sealed class ResponseHeaderTests : IAsyncLifetime
{
    private const string Immutable = "max-age=31536000, immutable";
    private KestrelApp _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _app = KestrelApp.Create();
        _app.App.MapGet("/test/throw", (Func<string>)(() => throw new InvalidOperationException("test failure")));
        await _app.BeginStartAsync();
        await _app.StartTask!;
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Every_response_has_the_security_headers_and_none_names_the_server()
    {
        var paths = new[] { "/", "/cloud", "/best-practices", "/healthz", "/readyz", "/version", "/metrics", "/no-such-page", "/test/throw" }
            .Concat(await AssetsOfHomePage())
            .ToList();

        foreach (var path in paths)
        {
            using var response = await _client.GetAsync(path);
            var headers = response.Headers;
            var csp = Assert.Single(headers.GetValues("Content-Security-Policy"));
            Assert.Equal(ResponseHeaders.ContentSecurityPolicy, csp);
            Assert.Equal("nosniff", Assert.Single(headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("strict-origin-when-cross-origin", Assert.Single(headers.GetValues("Referrer-Policy")));
            Assert.Contains("camera=()", Assert.Single(headers.GetValues("Permissions-Policy")));
            Assert.False(headers.Contains("Server"), $"{path} sent Server: {string.Join(",", headers.Server)}");
        }
        using var error = await _client.GetAsync("/test/throw");
        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
    }

    [Fact]
    public void The_policy_allows_no_inline_code_and_no_framing()
    {
        var directives = ResponseHeaders.ContentSecurityPolicy.Split(';', StringSplitOptions.TrimEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d[(d.IndexOf(' ') + 1)..]);

        Assert.Equal("'none'", directives["default-src"]);
        Assert.Equal("'self'", directives["script-src"]);
        Assert.Equal("'self'", directives["style-src"]);
        Assert.Equal("'none'", directives["frame-ancestors"]);
        Assert.DoesNotContain("unsafe", ResponseHeaders.ContentSecurityPolicy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fingerprinted_static_files_are_immutable_and_plain_names_revalidate()
    {
        var assets = await AssetsOfHomePage();
        Assert.Equal(4, assets.Count); // favicon, two stylesheets, one script: all fingerprinted by the layout
        foreach (var asset in assets)
        {
            using var response = await _client.GetAsync(asset);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Immutable, response.Headers.CacheControl?.ToString());
        }

        using var plain = await _client.GetAsync("/css/site.css");
        Assert.Equal("no-cache", plain.Headers.CacheControl?.ToString());
        Assert.NotNull(plain.Headers.ETag);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/cloud")]
    [InlineData("/best-practices")]
    public async Task Pages_revalidate_with_an_etag_and_are_served_from_the_output_cache(string path)
    {
        using var first = await _client.GetAsync(path);
        var body = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
        var etag = first.Headers.ETag ?? throw new Xunit.Sdk.XunitException($"{path} has no ETag");
        Assert.Equal(PageCaching.ETagFor(_app.App.Services.GetRequiredService<AppInfo>()), etag.Tag);

        // Served by the output cache (it adds Age), the query string ignored, the same bytes.
        using var again = await _client.GetAsync(path + "?utm_source=test");
        Assert.NotNull(again.Headers.Age);
        Assert.Equal(body, await again.Content.ReadAsStringAsync());
        Assert.Equal(ResponseHeaders.ContentSecurityPolicy, Assert.Single(again.Headers.GetValues("Content-Security-Policy")));

        using var conditional = new HttpRequestMessage(HttpMethod.Get, path);
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await _client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var stale = new HttpRequestMessage(HttpMethod.Get, path);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"an-older-release\""));
        using var modified = await _client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
    }

    [Theory]
    [InlineData("/version")]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    public async Task Operational_endpoints_are_never_cached(string path)
    {
        for (var i = 0; i < 2; i++)
        {
            using var response = await _client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Null(response.Headers.Age);
            Assert.Null(response.Headers.ETag);
        }
    }

    [Fact]
    public async Task Error_and_not_found_responses_are_never_cached()
    {
        for (var i = 0; i < 2; i++)
        {
            foreach (var (path, status) in new[] { ("/no-such-page", HttpStatusCode.NotFound), ("/test/throw", HttpStatusCode.InternalServerError) })
            {
                using var response = await _client.GetAsync(path);
                Assert.Equal(status, response.StatusCode);
                // The exception handler adds its own no-cache; no-store is what counts.
                Assert.True(response.Headers.CacheControl?.NoStore, $"{path}: Cache-Control: {response.Headers.CacheControl}");
                Assert.Null(response.Headers.Age);
                Assert.Null(response.Headers.ETag);
            }
        }
    }

    private async Task<List<string>> AssetsOfHomePage()
    {
        var page = await Html.GetDocumentAsync(_client, "/");
        return page.QuerySelectorAll("link[href], script[src]")
            .Select(e => e.GetAttribute("href") ?? e.GetAttribute("src")!)
            .Where(url => url.Contains('.', StringComparison.Ordinal))
            .ToList();
    }
}
