using Delivery.Core.Testing;

namespace Delivery.Core.Tests;

public sealed class TrxReportTests
{
    static string Trx(params (string Name, string Outcome, string Duration)[] results) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <TestRun id="1" name="run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
          <Times creation="2026-01-01T10:00:00+00:00" start="2026-01-01T10:00:01.5+00:00" finish="2026-01-01T10:01:04+00:00" />
          <Results>
            {string.Join("\n    ", results.Select(r => $"<UnitTestResult testName=\"{r.Name}\" duration=\"{r.Duration}\" outcome=\"{r.Outcome}\" />"))}
          </Results>
        </TestRun>
        """;

    [Fact]
    public void Counts_outcomes_and_reads_the_wall_time_and_each_duration()
    {
        using var dir = new TempDirectory();
        var file = dir.File("a.trx", Trx(("A.fast", "Passed", "00:00:00.0100000"), ("A.slow", "Failed", "00:01:03.2500000"),
            ("A.skipped", "NotExecuted", "00:00:00"), ("A.timeout", "Timeout", "00:00:10")));

        var report = TrxReport.Read(file);

        Assert.Equal(new TestCounts(1, 2, 1), report.Counts);
        Assert.Equal(TimeSpan.FromSeconds(62.5), report.WallTime);
        Assert.Equal(["A.slow", "A.timeout"], report.Slowest(2).Select(t => t.Name));
        Assert.Equal(TimeSpan.FromSeconds(63.25), report.Slowest(1).Single().Duration);
    }

    [Fact]
    public void A_truncated_file_fails_in_one_line_that_names_it()
    {
        using var dir = new TempDirectory();
        var file = dir.File("broken.trx", "<TestRun><Results>");

        var error = Assert.Throws<DeliveryException>(() => TrxReport.Read(file));

        Assert.StartsWith($"Cannot read test results {file}: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Counts_add_up_and_print_as_the_summary_line()
    {
        var total = new TestCounts(3, 1, 0) + new TestCounts(2, 0, 4);
        Assert.Equal("5 passed, 1 failed, 4 skipped", total.ToString());
        Assert.Equal(10, total.Total);
    }
}
