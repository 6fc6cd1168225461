using System.Globalization;
using Delivery.Core;
using Microsoft.AspNetCore.Builder;
using WebApp.Metrics;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

public sealed class MetricsEndpointTests(WebAppFactory factory) : IClassFixture<WebAppFactory>
{
    private const string TextFormat = "text/plain; version=0.0.4; charset=utf-8";

    private async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        Assert.Equal(TextFormat, response.Content.Headers.ContentType!.ToString());
        return await response.Content.ReadAsStringAsync();
    }

    private static double Value(string scrape, string name, params (string Label, string Value)[] labels) =>
        Exposition.Parse(scrape)
            .Where(s => s.Name == name && labels.All(l => s[l.Label] == l.Value))
            .Select(s => s.Value)
            .DefaultIfEmpty(0)
            .Sum();

    [Fact]
    public async Task Request_counter_and_histogram_count_increase_by_the_number_of_requests_under_the_route_template()
    {
        var client = factory.CreateClient();
        var before = await ScrapeAsync(client);

        for (var i = 0; i < 3; i++)
            (await client.GetAsync("/cloud")).EnsureSuccessStatusCode();
        (await client.GetAsync("/cloud?utm_source=test")).EnsureSuccessStatusCode();
        var after = await ScrapeAsync(client);

        var cloud = new[] { ("method", "GET"), ("route", "/cloud"), ("code", "200") };
        Assert.Equal(4, Value(after, "http_requests_received_total", cloud) - Value(before, "http_requests_received_total", cloud));
        var cloudDuration = new[] { ("method", "GET"), ("route", "/cloud") };
        Assert.Equal(4, Value(after, "http_request_duration_seconds_count", cloudDuration) - Value(before, "http_request_duration_seconds_count", cloudDuration));
        Assert.True(Value(after, "http_request_duration_seconds_sum", cloudDuration) > Value(before, "http_request_duration_seconds_sum", cloudDuration));
        Assert.DoesNotContain(Exposition.Parse(after), s => s["route"]?.Contains("utm_source", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Unknown_urls_are_counted_under_one_unmatched_route_and_odd_methods_under_OTHER()
    {
        var client = factory.CreateClient();
        var before = await ScrapeAsync(client);

        (await client.GetAsync("/definitely/not/here")).Dispose();
        (await client.SendAsync(new HttpRequestMessage(new HttpMethod("BREW"), "/"))).Dispose();
        var after = await ScrapeAsync(client);

        Assert.Equal(1, Value(after, "http_requests_received_total", ("route", "unmatched"), ("code", "404"))
                        - Value(before, "http_requests_received_total", ("route", "unmatched"), ("code", "404")));
        Assert.Equal(1, Value(after, "http_requests_received_total", ("method", "OTHER"))
                        - Value(before, "http_requests_received_total", ("method", "OTHER")));
        Assert.DoesNotContain(Exposition.Parse(after), s => s["route"] == "/definitely/not/here" || s["method"] == "BREW");
    }

    [Fact]
    public async Task Every_histogram_series_has_monotonic_buckets_ending_in_an_Inf_bucket_equal_to_its_count()
    {
        var client = factory.CreateClient();
        foreach (var path in new[] { "/", "/cloud", "/best-practices", "/healthz", "/missing" })
            (await client.GetAsync(path)).Dispose();
        var samples = Exposition.Parse(await ScrapeAsync(client));

        var buckets = samples.Where(s => s.Name == "http_request_duration_seconds_bucket").ToList();
        var series = buckets.GroupBy(s => (s["method"], s["route"])).ToList();
        Assert.True(series.Count >= 5, $"expected a series per requested route, got {series.Count}");
        foreach (var group in series)
        {
            var ordered = group.Select(b => (Le: ParseLe(b["le"]!), b.Value)).ToList();
            Assert.Equal(ordered.OrderBy(b => b.Le).ToList(), ordered); // exposed in increasing le order
            Assert.Equal(AppMetrics.DurationBuckets.Length + 1, ordered.Count);
            Assert.True(double.IsPositiveInfinity(ordered[^1].Le), "the last bucket must be +Inf");
            for (var i = 1; i < ordered.Count; i++)
                Assert.True(ordered[i].Value >= ordered[i - 1].Value, $"bucket counts must not decrease: {group.Key}");
            var count = Assert.Single(samples, s => s.Name == "http_request_duration_seconds_count" && s["method"] == group.Key.Item1 && s["route"] == group.Key.Item2);
            Assert.Equal(count.Value, ordered[^1].Value);
            Assert.True(count.Value >= 1);
        }
    }

    [Fact]
    public async Task Two_thousand_distinct_unknown_urls_do_not_add_a_single_series()
    {
        var client = factory.CreateClient();
        // Warm up: make every series the measurement itself produces exist before the first snapshot.
        (await client.GetAsync("/warm-up/unknown")).Dispose();
        await ScrapeAsync(client);
        var before = Exposition.SeriesKeys(await ScrapeAsync(client));

        var next = 0;
        var workers = Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= 2_000)
            {
                using var response = await client.GetAsync($"/unknown/{i}/{Guid.NewGuid():N}?q={i}");
                Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
            }
        });
        await Task.WhenAll(workers);
        var afterScrape = await ScrapeAsync(client);
        var after = Exposition.SeriesKeys(afterScrape);

        Assert.Equal(before.Order(), after.Order());
        Assert.True(Value(afterScrape, "http_requests_received_total", ("route", "unmatched")) >= 2_000);
    }

    [Fact]
    public async Task Process_runtime_and_app_info_metrics_are_exposed()
    {
        var client = factory.CreateClient();
        var samples = Exposition.Parse(await ScrapeAsync(client));
        var info = factory.Services.GetRequiredService<AppInfo>();

        Assert.True(Assert.Single(samples, s => s.Name == "process_cpu_seconds_total").Value > 0);
        Assert.True(Assert.Single(samples, s => s.Name == "process_resident_memory_bytes").Value > 1_000_000);
        var startTime = Assert.Single(samples, s => s.Name == "process_start_time_seconds").Value;
        Assert.Equal(info.StartedAt.ToUnixTimeSeconds(), Math.Floor(startTime));
        Assert.Equal(["0", "1", "2"], samples.Where(s => s.Name == "dotnet_collection_count_total").Select(s => s["generation"]!).Order());
        Assert.True(Assert.Single(samples, s => s.Name == "process_working_set_bytes").Value > 1_000_000);
        Assert.Single(samples, s => s.Name == "http_requests_in_progress");

        var appInfo = Assert.Single(samples, s => s.Name == "app_info");
        Assert.Equal(1, appInfo.Value);
        Assert.Equal(info.Version, appInfo["version"]);
        Assert.Equal(info.Commit, appInfo["commit"]);
        Assert.Equal(WebAppFactory.Environment, appInfo["environment"]);
    }

    [Fact]
    public async Task A_request_that_throws_is_counted_once_as_a_500_under_its_own_route()
    {
        await using var app = KestrelApp.Create();
        app.App.MapGet("/test/throw", (Func<string>)(() => throw new InvalidOperationException("test failure")));
        await app.BeginStartAsync();
        await app.StartTask!;
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/test/throw");
        var after = await ScrapeAsync(client);

        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, response.StatusCode);
        var thrown = Exposition.Parse(after).Where(s => s.Name == "http_requests_received_total" && s["route"] == "/test/throw").ToList();
        Assert.Equal("500", Assert.Single(thrown)["code"]);
        Assert.Equal(1, thrown[0].Value);
        Assert.DoesNotContain(Exposition.Parse(after), s => s["route"] == "/error");
    }

    [Fact]
    public async Task Static_files_are_counted_under_one_route_label_whatever_their_fingerprinted_names()
    {
        var client = factory.CreateClient();
        var page = await Html.GetDocumentAsync(client, "/");
        var assets = page.QuerySelectorAll("link[href], script[src]")
            .Select(e => e.GetAttribute("href") ?? e.GetAttribute("src")!)
            .Where(url => url.Contains('.', StringComparison.Ordinal))
            .Append("/css/site.css") // the same file under its plain name
            .ToList();
        Assert.Contains(assets, a => a.StartsWith("/css/site.", StringComparison.Ordinal) && a != "/css/site.css");
        var before = await ScrapeAsync(client);

        foreach (var asset in assets)
            (await client.GetAsync(asset)).EnsureSuccessStatusCode();
        var after = await ScrapeAsync(client);

        var counted = new[] { ("method", "GET"), ("route", RouteLabel.StaticFiles), ("code", "200") };
        Assert.Equal(assets.Count, Value(after, "http_requests_received_total", counted) - Value(before, "http_requests_received_total", counted));
        Assert.DoesNotContain(Exposition.Parse(after), s => s["route"] is { } route && (route.Contains("css", StringComparison.Ordinal) || route.Contains("lib", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_real_scrape_passes_promtool_check_metrics_without_findings()
    {
        var promtool = ExternalTool.Require("promtool", "Debian package 'prometheus'");
        var client = factory.CreateClient();
        foreach (var path in new[] { "/", "/cloud", "/best-practices", "/healthz", "/readyz", "/version", "/nope" })
            (await client.GetAsync(path)).Dispose();
        await ScrapeAsync(client);
        var scrape = await ScrapeAsync(client);

        var result = await ProcessRunner.RunAsync(promtool, ["check", "metrics"], new ProcessOptions { StandardInput = scrape });

        Assert.True(result.ExitCode == 0, $"promtool exited with {result.ExitCode}: {result.StandardOutput}{result.StandardError}");
        Assert.Equal("", result.StandardOutput + result.StandardError);
    }

    private static double ParseLe(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
}
