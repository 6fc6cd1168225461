using System.Net;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

public sealed class MetricsSwitchTests
{
    [Theory]
    [InlineData("true", HttpStatusCode.OK)]
    [InlineData("false", HttpStatusCode.NotFound)]
    public async Task Metrics_Enabled_switches_the_metrics_endpoint_and_pages_work_either_way(string enabled, HttpStatusCode expected)
    {
        await using var app = await KestrelApp.StartAsync(configure: b => b.Configuration["Metrics:Enabled"] = enabled);
        using var client = app.CreateClient();

        using var page = await client.GetAsync("/");
        using var metrics = await client.GetAsync("/metrics");
        var body = await metrics.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(expected, metrics.StatusCode);
        Assert.Equal(expected == HttpStatusCode.OK, body.Contains("http_requests_received_total{method=\"GET\",route=\"/\",code=\"200\"} 1", StringComparison.Ordinal));
    }
}
