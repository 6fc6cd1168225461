using Delivery.Core;
using WebApp.Metrics;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

public sealed class MetricRegistryTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData(@"C:\path", @"C:\\path")]
    [InlineData("say \"hi\"", "say \\\"hi\\\"")]
    [InlineData("two\nlines", @"two\nlines")]
    [InlineData("\\\"\n", "\\\\\\\"\\n")]
    public void Label_values_escape_backslash_quote_and_newline(string value, string escaped) =>
        Assert.Equal(escaped, PrometheusText.EscapeLabelValue(value));

    [Fact]
    public void Help_text_escapes_backslash_and_newline_but_not_quotes() =>
        Assert.Equal("a \\\\ b\\nc \"d\"", PrometheusText.EscapeHelp("a \\ b\nc \"d\""));

    [Fact]
    public void Exposition_is_exact()
    {
        var registry = new MetricRegistry();
        var requests = registry.AddCounter("jobs_done_total", "Jobs done.", "queue");
        var depth = registry.AddGauge("queue_depth", "Items waiting.");
        var latency = registry.AddHistogram("job_duration_seconds", "Job time.", [0.25, 1], "queue");
        requests.WithLabels("b").Inc();
        requests.WithLabels("a").Inc(2);
        depth.Set(5);
        depth.Dec();
        latency.WithLabels("a").Observe(0.25);
        latency.WithLabels("a").Observe(0.5);
        latency.WithLabels("a").Observe(3);

        Assert.Equal(
            """
            # HELP jobs_done_total Jobs done.
            # TYPE jobs_done_total counter
            jobs_done_total{queue="a"} 2
            jobs_done_total{queue="b"} 1
            # HELP queue_depth Items waiting.
            # TYPE queue_depth gauge
            queue_depth 4
            # HELP job_duration_seconds Job time.
            # TYPE job_duration_seconds histogram
            job_duration_seconds_bucket{queue="a",le="0.25"} 1
            job_duration_seconds_bucket{queue="a",le="1"} 2
            job_duration_seconds_bucket{queue="a",le="+Inf"} 3
            job_duration_seconds_sum{queue="a"} 3.75
            job_duration_seconds_count{queue="a"} 3

            """.ReplaceLineEndings("\n"),
            registry.Scrape());
    }

    [Fact]
    public void Escaped_label_values_round_trip_through_a_parser()
    {
        var registry = new MetricRegistry();
        var odd = "back\\slash \"quoted\"\nnext line";
        registry.AddGauge("odd_label", "Has an odd label value.", "value").WithLabels(odd).Set(1);

        var sample = Assert.Single(Exposition.Parse(registry.Scrape()));

        Assert.Equal(odd, sample["value"]);
    }

    [Fact]
    public async Task Escaped_label_values_and_help_pass_promtool()
    {
        var promtool = ExternalTool.Require("promtool", "Debian package 'prometheus'");
        var registry = new MetricRegistry();
        registry.AddGauge("odd_label_info", "Odd \\ help\nwith a newline.", "value").WithLabels("a\\b\"c\nd").Set(1);
        registry.AddCounter("events_total", "Events.", "kind").WithLabels("x").Inc();

        var result = await ProcessRunner.RunAsync(promtool, ["check", "metrics"], new ProcessOptions { StandardInput = registry.Scrape() });

        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("", result.StandardOutput + result.StandardError);
    }

    [Fact]
    public void Unlabelled_metrics_are_exposed_as_zero_before_first_use()
    {
        var registry = new MetricRegistry();
        registry.AddCounter("things_total", "Things.");
        registry.AddHistogram("wait_seconds", "Waits.", [1]);

        var samples = Exposition.Parse(registry.Scrape());

        Assert.Equal(0, Assert.Single(samples, s => s.Name == "things_total").Value);
        Assert.Equal(0, Assert.Single(samples, s => s.Name == "wait_seconds_count").Value);
        Assert.Equal(2, samples.Count(s => s.Name == "wait_seconds_bucket"));
    }

    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(123456789012.0, "123456789012")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    public void Values_are_formatted_culture_invariantly(double value, string text)
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            Assert.Equal(text, PrometheusText.FormatValue(value));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Fact]
    public void A_value_equal_to_a_bucket_bound_is_counted_in_that_bucket()
    {
        var registry = new MetricRegistry();
        var histogram = registry.AddHistogram("size_bytes", "Sizes.", [10, 20]);
        histogram.Observe(10);
        histogram.Observe(20.000001);

        var snapshot = histogram.WithLabels().Snapshot();

        Assert.Equal([1L, 0L, 1L], snapshot.BucketCounts);
        Assert.Equal(2, snapshot.Count);
    }

    [Fact]
    public void Counters_only_go_up()
    {
        var counter = new MetricRegistry().AddCounter("cpu_seconds_total", "CPU.");
        counter.WithLabels().IncTo(5);
        counter.WithLabels().IncTo(3);

        Assert.Equal(5, counter.WithLabels().Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => counter.Inc(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => counter.Inc(double.NaN));
    }

    [Fact]
    public void Concurrent_updates_are_not_lost()
    {
        var registry = new MetricRegistry();
        var counter = registry.AddCounter("hits_total", "Hits.", "shard");
        var histogram = registry.AddHistogram("hit_seconds", "Hit time.", [0.5]);

        Parallel.For(0, 40_000, i =>
        {
            counter.WithLabels((i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            histogram.Observe(i % 2 == 0 ? 0.1 : 0.9);
        });

        Assert.Equal(40_000, Enumerable.Range(0, 4).Sum(s => counter.WithLabels(s.ToString(System.Globalization.CultureInfo.InvariantCulture)).Value));
        var snapshot = histogram.WithLabels().Snapshot();
        Assert.Equal([20_000L, 20_000L], snapshot.BucketCounts);
        Assert.Equal(40_000, snapshot.Count);
    }

    [Theory]
    [InlineData("requests", "counter")]        // counters must end in _total
    [InlineData("9lives_total", "counter")]    // invalid first character
    [InlineData("has-dash", "gauge")]
    [InlineData("", "gauge")]
    public void Invalid_metric_names_are_rejected(string name, string type)
    {
        var registry = new MetricRegistry();
        Assert.Throws<ArgumentException>(() =>
        {
            if (type == "counter")
                registry.AddCounter(name, "Help.");
            else
                registry.AddGauge(name, "Help.");
        });
    }

    [Fact]
    public void Invalid_labels_help_and_buckets_are_rejected()
    {
        var registry = new MetricRegistry();
        Assert.Throws<ArgumentException>(() => registry.AddGauge("a", "Help.", "__reserved"));
        Assert.Throws<ArgumentException>(() => registry.AddGauge("b", "Help.", "x", "x"));
        Assert.Throws<ArgumentException>(() => registry.AddGauge("c", " "));
        Assert.Throws<ArgumentException>(() => registry.AddHistogram("d", "Help.", [1], "le"));
        Assert.Throws<ArgumentException>(() => registry.AddHistogram("e", "Help.", [2, 1]));
        Assert.Throws<ArgumentException>(() => registry.AddHistogram("f", "Help.", []));
        var gauge = registry.AddGauge("g", "Help.", "one", "two");
        Assert.Throws<ArgumentException>(() => gauge.WithLabels("only-one"));
    }

    [Fact]
    public void A_name_can_be_registered_once_including_the_names_a_histogram_exposes()
    {
        var registry = new MetricRegistry();
        registry.AddHistogram("latency_seconds", "Latency.", [1]);

        Assert.Throws<InvalidOperationException>(() => registry.AddGauge("latency_seconds", "Again."));
        Assert.Throws<InvalidOperationException>(() => registry.AddGauge("latency_seconds_count", "Clash."));
        registry.AddGauge("depth", "Depth.");
        Assert.Throws<InvalidOperationException>(() => registry.AddHistogram("depth", "Clash.", [1]));
    }

    [Theory]
    [InlineData("GET", "GET")]
    [InlineData("get", "GET")]
    [InlineData("PROPFIND", "OTHER")]
    [InlineData("X-RANDOM-123", "OTHER")]
    public void Methods_outside_the_standard_set_share_one_label_value(string method, string label) =>
        Assert.Equal(label, HttpMetrics.MethodLabel(method));
}
