using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>The bake's scrape reduction and judgement, run for real under bash and awk on Prometheus text (no Docker).</summary>
public sealed class BakeFunctionTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("hdt-bake-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly BakeSettings Settings = new() { Duration = TimeSpan.FromSeconds(30), MinRequests = 10 };

    /// <summary>Runs the bake functions with "$curl" replaced by a script that prints the given scrape.</summary>
    async Task<HostResult> Bash(string body, string? scrape = null)
    {
        var fakeCurl = Path.Combine(_dir, "curl");
        File.WriteAllText(Path.Combine(_dir, "scrape.txt"), scrape ?? "");
        File.WriteAllText(fakeCurl, $"#!/bin/sh\ncat '{_dir}/scrape.txt'\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(fakeCurl, (UnixFileMode)0b111_000_000);
        return await HostShell.Run(new ScriptValues().Add("curl", fakeCurl).AddBake(Settings, DeployEnvironment.Staging), ["bake.sh"], body);
    }

    const string AppScrape = """
        # HELP http_requests_received_total HTTP requests completed, by method, route template and status code.
        # TYPE http_requests_received_total counter
        http_requests_received_total{method="GET",route="/",code="200"} 90
        http_requests_received_total{method="GET",route="/cloud",code="500"} 7
        http_requests_received_total{method="GET",route="/cloud",code="503"} 3
        http_requests_received_total{method="GET",route="/metrics",code="500"} 40
        http_request_duration_seconds_bucket{method="GET",route="/",le="0.01"} 80
        http_request_duration_seconds_bucket{method="GET",route="/",le="0.1"} 90
        http_request_duration_seconds_bucket{method="GET",route="/",le="+Inf"} 90
        http_request_duration_seconds_bucket{method="GET",route="/cloud",le="0.01"} 0
        http_request_duration_seconds_bucket{method="GET",route="/cloud",le="0.1"} 5
        http_request_duration_seconds_bucket{method="GET",route="/cloud",le="+Inf"} 10
        http_request_duration_seconds_bucket{method="GET",route="/metrics",le="+Inf"} 40
        http_request_duration_seconds_sum{method="GET",route="/" } 0.5
        http_requests_in_progress 1
        app_info{version="1.2.3"} 1
        """;

    [Fact]
    public async Task A_scrape_is_summed_over_series_without_the_metrics_route_and_5xx_are_counted_by_code()
    {
        var result = await Bash($"metrics_snapshot 1234 '{_dir}/snap' && sort '{_dir}/snap'\n", AppScrape);
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal(["bucket +Inf 100", "bucket 0.01 80", "bucket 0.1 95", "errors 10", "requests 100"], result.Lines);
    }

    [Theory]
    // 100 requests, 10 of them 5xx; buckets 0.01:80 0.1:95 +Inf:100. p95 = 0.1 exactly (rank 95); p99 lies in +Inf,
    // so it is the highest finite bound.
    [InlineData("null", "100 10 0.1000 0.1000 0.1000 0.2500 error-rate")]
    public async Task The_window_is_judged_from_the_difference_of_two_scrapes(string baseline, string expected)
    {
        File.WriteAllText(Path.Combine(_dir, "zero"), "");
        var result = await Bash($"metrics_snapshot 1 '{_dir}/now'\nbaseline_p99={baseline}\nbake_eval '{_dir}/zero' '{_dir}/now' 0\n", AppScrape);
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal(expected, result.Lines.Single());
    }

    [Theory]
    // Both in bucket (0.01, 0.1]: 50 of 50 new requests, p99 = 0.01 + 0.09 * 49.5/50.
    [InlineData("requests 50\nerrors 0\nbucket 0.01 0\nbucket 0.1 50\nbucket +Inf 50", "null", "0", "50 0 0.0000 0.0955 0.0991 0.2500 ok")]
    // Baseline 0.2 s x 2 = 0.4 s limit; p99 in (0.5, 1] is over it.
    [InlineData("requests 20\nerrors 0\nbucket 0.5 0\nbucket 1 20\nbucket +Inf 20", "0.2000", "0", "20 0 0.0000 0.9750 0.9950 0.4000 latency")]
    // Within the limit of twice the baseline.
    [InlineData("requests 20\nerrors 0\nbucket 0.5 0\nbucket 1 20\nbucket +Inf 20", "0.6000", "0", "20 0 0.0000 0.9750 0.9950 1.2000 ok")]
    // Fewer than the minimum (10): no verdict yet, even with errors, while the bake goes on.
    [InlineData("requests 4\nerrors 4\nbucket +Inf 4", "null", "0", "4 4 1.0000 null null 0.2500 wait")]
    // In the final sample, errors that breach the 1 % limit even if the rest of the 10 had succeeded fail; none wait.
    [InlineData("requests 9\nerrors 3\nbucket +Inf 9", "null", "0", "9 3 0.3333 null null 0.2500 error-rate", "1")]
    [InlineData("requests 9\nerrors 0\nbucket +Inf 9", "null", "0", "9 0 0.0000 null null 0.2500 wait", "1")]
    [InlineData("requests 8\nerrors 0\nbucket +Inf 8", "null", "1", "9 1 0.1111 null null 0.2500 error-rate", "1")]
    // Probes that got no answer count as failed requests.
    [InlineData("requests 20\nerrors 0\nbucket 0.1 20\nbucket +Inf 20", "null", "1", "21 1 0.0476 0.0950 0.0990 0.2500 error-rate")]
    // Buckets come in any order; an empty window has no quantiles.
    [InlineData("requests 0\nerrors 0\nbucket +Inf 0\nbucket 0.1 0", "null", "0", "0 0 0.0000 null null 0.2500 wait")]
    public async Task Rules_rates_and_quantiles(string window, string baseline, string unanswered, string expected, string final = "0")
    {
        // The release had served 1000 requests (3 errors) before the window; the window's own counts come on top.
        var now = window.Split('\n').Select(l => l.Split(' ')).ToDictionary(f => string.Join(' ', f[..^1]), f => long.Parse(f[^1]));
        File.WriteAllLines(Path.Combine(_dir, "start"), now.Keys.Select(k => $"{k} {(k == "errors" ? 3 : 1000)}"));
        File.WriteAllLines(Path.Combine(_dir, "now"), now.Select(kv => $"{kv.Key} {kv.Value + (kv.Key == "errors" ? 3 : 1000)}"));
        var result = await Bash($"baseline_p99={baseline}\nbake_eval '{_dir}/start' '{_dir}/now' {unanswered} {final}\n");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal(expected, result.Lines.Single());
    }

    [Fact]
    public async Task An_unreadable_metrics_page_is_a_failed_snapshot_with_curls_reason()
    {
        var result = await HostShell.Run(new ScriptValues().Add("curl", "curl").AddBake(Settings, DeployEnvironment.Staging), ["bake.sh"],
            $"metrics_snapshot 1 '{_dir}/x' || say \"failed: $snapshot_error\"\n");
        Assert.Matches("^webapp-deploy: failed: curl: \\(7\\) Failed to connect to 127.0.0.1 port 1", result.Lines.Single());
    }

    [Fact]
    public void Settings_are_checked_in_one_line()
    {
        var error = Assert.Throws<Delivery.Core.DeliveryException>(() => (Settings with { MaxErrorRate = 1.5 }).Validate());
        Assert.Equal("The bake's maximum error rate must be between 0 and 1, not 1.5.", error.Message);
        error = Assert.Throws<Delivery.Core.DeliveryException>(() => (Settings with { Interval = TimeSpan.FromSeconds(40) }).Validate());
        Assert.Equal("The bake interval must be at least 0.2 s and at most the bake time (30 s), not 40 s.", error.Message);
        error = Assert.Throws<Delivery.Core.DeliveryException>(() => (Settings with { ProbePaths = ["cloud"] }).Validate());
        Assert.Equal("Bake probe path 'cloud' must start with '/' and contain only URL path characters.", error.Message);
        BakeSettings.Off.Validate();
    }
}
