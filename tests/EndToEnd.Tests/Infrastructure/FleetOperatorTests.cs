using System.Text.RegularExpressions;
using EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>
/// Issue 20's operator features on an SSM fleet through ./build.sh, each through the AWS test endpoint's fake instances
/// (each its own host: state root, HAProxy, containers, ports), the same path they take on this machine. Two classes,
/// each with a clone and a fleet of its own, so the longest chain of the EndToEnd run is not all of them in a row.
/// </summary>
public abstract class FleetOperatorTests(CloneFixture clone, FleetFixture fleet, ITestOutputHelper output) : CloneTests(clone)
{
    protected FleetFixture Fleet { get; } = fleet;
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Short timeouts the tests set themselves, so a failure path never waits for a default; every run's
    /// output goes to the test's log (the transcript of each feature on a fleet).</summary>
    protected async Task<BuildRun> BuildAsync(params string[] arguments)
    {
        var run = await Clone.BuildAsync(Fleet.AwsEnvironment(),
            [.. arguments, "--bake-seconds", "0", "--delivery-timeout", "60s", "--allow-unattested"]);
        Output.WriteLine($"$ ./build.sh {string.Join(' ', run.Arguments)}   (exit {run.ExitCode})");
        foreach (var line in run.Lines) Output.WriteLine(line);
        Output.WriteLine("");
        return run;
    }

    protected List<FleetFixture.Instance> Three => Fleet.Instances.Take(3).ToList();

    protected static async Task<(int Status, string Body, string? RetryAfter)> Get(int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}{path}");
        var retry = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), retry);
    }

    protected static async Task<(int Status, string Body)> Body(int port, string path)
    {
        var (status, body, _) = await Get(port, path);
        return (status, status == 200 ? body : "");
    }

    protected static IReadOnlyList<string> History(FleetFixture.Instance instance, string environment)
    {
        var path = Path.Combine(instance.Root, "envs", environment, "history.jsonl");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }
}
