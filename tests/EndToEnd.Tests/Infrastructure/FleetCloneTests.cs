using Xunit.Abstractions;

namespace EndToEnd.Tests.Infrastructure;

/// <summary>Base of the test classes that run fleet operations through ./build.sh on a clone, with the AWS test
/// endpoint's environment and short timeouts the tests set themselves, so a failure path never waits for a default.
/// Given a <paramref name="transcript"/>, every run's output goes to the test's log.</summary>
public abstract class FleetCloneTests(CloneFixture clone, FleetFixture fleet, ITestOutputHelper? transcript = null) : CloneTests(clone)
{
    protected FleetFixture Fleet { get; } = fleet;

    protected async Task<BuildRun> BuildAsync(Dictionary<string, string?>? environment, params string[] arguments) =>
        Transcribe(await Clone.BuildAsync(environment ?? Fleet.AwsEnvironment(),
            [.. arguments, .. arguments.Contains("--bake-seconds") ? Array.Empty<string>() : ["--bake-seconds", "0"], "--delivery-timeout", "60s", "--allow-unattested"]));

    protected Task<BuildRun> BuildAsync(params string[] arguments) => BuildAsync(null, arguments);

    /// <summary>Writes the run's command line and output to the test's log, when there is one.</summary>
    protected BuildRun Transcribe(BuildRun run)
    {
        if (transcript is null) return run;
        transcript.WriteLine($"$ ./build.sh {string.Join(' ', run.Arguments)}   (exit {run.ExitCode})");
        foreach (var line in run.Lines) transcript.WriteLine(line);
        transcript.WriteLine("");
        return run;
    }
}
