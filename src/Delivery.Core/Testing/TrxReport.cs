using System.Globalization;
using System.Xml.Linq;

namespace Delivery.Core.Testing;

/// <summary>Test outcome counts.</summary>
public readonly record struct TestCounts(int Passed, int Failed, int Skipped)
{
    public static TestCounts operator +(TestCounts a, TestCounts b) =>
        new(a.Passed + b.Passed, a.Failed + b.Failed, a.Skipped + b.Skipped);

    public int Total => Passed + Failed + Skipped;

    public override string ToString() => $"{Passed} passed, {Failed} failed, {Skipped} skipped";
}

/// <summary>One test case's name and how long it ran.</summary>
public sealed record TestDuration(string Name, TimeSpan Duration);

/// <summary>What a TRX file (the VSTest results format) says: counts, the run's wall time, and each test's duration.</summary>
public sealed record TrxReport(TestCounts Counts, TimeSpan WallTime, IReadOnlyList<TestDuration> Tests)
{
    /// <summary>The <paramref name="count"/> longest tests, longest first.</summary>
    public IEnumerable<TestDuration> Slowest(int count) => Tests.OrderByDescending(t => t.Duration).Take(count);

    public static TrxReport Read(string path)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(path);
        }
        catch (Exception e) when (e is System.Xml.XmlException or IOException)
        {
            throw new DeliveryException($"Cannot read test results {path}: {e.Message}");
        }
        // One UnitTestResult per executed test case; xunit reports skipped tests as NotExecuted.
        var results = document.Descendants().Where(e => e.Name.LocalName == "UnitTestResult").ToList();
        var outcomes = results.Select(e => (string?)e.Attribute("outcome") ?? "").ToList();
        var counts = new TestCounts(
            outcomes.Count(o => o == "Passed"),
            outcomes.Count(o => o is "Failed" or "Error" or "Timeout" or "Aborted"),
            outcomes.Count(o => o is "NotExecuted" or "Inconclusive" or "NotRunnable" or "Pending" or "Disconnected" or "Warning"));
        var tests = results
            .Select(e => new TestDuration((string?)e.Attribute("testName") ?? "", ParseDuration((string?)e.Attribute("duration"))))
            .ToList();
        var times = document.Descendants().FirstOrDefault(e => e.Name.LocalName == "Times");
        var wall = ParseTime((string?)times?.Attribute("start")) is { } start && ParseTime((string?)times?.Attribute("finish")) is { } finish
            ? finish - start
            : TimeSpan.Zero;
        return new TrxReport(counts, wall, tests);
    }

    static TimeSpan ParseDuration(string? text) =>
        TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var duration) ? duration : TimeSpan.Zero;

    static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;
}
