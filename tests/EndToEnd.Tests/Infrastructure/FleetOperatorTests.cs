using EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>
/// Issue 20's operator features on an SSM fleet through ./build.sh, each through the AWS test endpoint's fake instances
/// (each its own host: state root, HAProxy, containers, ports), the same path they take on this machine. Two classes,
/// each with a clone and a fleet of its own, so the longest chain of the EndToEnd run is not all of them in a row.
/// </summary>
public abstract class FleetOperatorTests(CloneFixture clone, FleetFixture fleet, ITestOutputHelper output)
    : FleetCloneTests(clone, fleet, output)
{
    protected ITestOutputHelper Output { get; } = output;

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
