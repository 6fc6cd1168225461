using Delivery.Core;

namespace Delivery.Hosts.Tests;

public sealed class WrkResultTests
{
    const string Clean = """
        Running 10s test @ http://127.0.0.1:40001/version
          2 threads and 20 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     2.36ms    1.49ms   8.74ms   66.93%
            Req/Sec     2.39k     0.90k    4.18k    70.00%
          47267 requests in 10.01s, 9.46MB read
        Requests/sec:   4721.97
        Transfer/sec:    967.32KB
        """;

    const string WithErrors = """
        Running 4s test @ http://127.0.0.1:40002/version
          2 threads and 20 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency   812.50us    2.01ms   1.02s    98.10%
            Req/Sec   227.12    110.40   600.00     70.00%
          1828 requests in 4.03s, 352.10KB read
          Socket errors: connect 3, read 62, write 1, timeout 2
          Non-2xx or 3xx responses: 46
        Requests/sec:    453.60
        Transfer/sec:     87.37KB
        """;

    [Fact]
    public void A_clean_run_has_no_errors()
    {
        var r = WrkResult.Parse(Clean);
        Assert.Equal(47267, r.Requests);
        Assert.Equal(TimeSpan.FromSeconds(10.01), r.Duration);
        Assert.Equal(4721.97, r.RequestsPerSecond);
        Assert.Equal(0, r.SocketErrors);
        Assert.Equal(0, r.Non2xx3xx);
        Assert.Equal(0, r.FailedRequests);
        Assert.Equal(TimeSpan.FromMilliseconds(2.36), r.LatencyAverage);
        Assert.Equal(TimeSpan.FromMilliseconds(8.74), r.LatencyMax);
    }

    [Fact]
    public void Socket_errors_and_bad_statuses_are_counted()
    {
        var r = WrkResult.Parse(WithErrors);
        Assert.Equal(1828, r.Requests);
        Assert.Equal((3, 62, 1, 2), (r.ConnectErrors, r.ReadErrors, r.WriteErrors, r.Timeouts));
        Assert.Equal(68, r.SocketErrors);
        Assert.Equal(46, r.Non2xx3xx);
        Assert.Equal(114, r.FailedRequests);
        Assert.Equal(TimeSpan.FromTicks(8125), r.LatencyAverage);
        Assert.Equal(TimeSpan.FromSeconds(1.02), r.LatencyMax);
    }

    [Fact]
    public void Output_that_is_not_a_wrk_report_is_refused()
    {
        var error = Assert.Throws<DeliveryException>(() => WrkResult.Parse("unable to connect to 127.0.0.1:1 Connection refused\n"));
        Assert.Equal("Not a wrk report (no 'N requests in T' line): unable to connect to 127.0.0.1:1 Connection refused", error.Message);
    }

    [Theory]
    [InlineData("250.00us", 2500)]
    [InlineData("1.50ms", 15000)]
    [InlineData("2s", 20_000_000)]
    [InlineData("1.00m", 600_000_000)]
    public void Durations_use_wrk_units(string text, long ticks) => Assert.Equal(TimeSpan.FromTicks(ticks), WrkResult.ParseDuration(text));
}
