namespace EndToEnd.Tests.Infrastructure;

/// <summary>Base of the test classes that run fleet operations through ./build.sh on a clone, with the AWS test
/// endpoint's environment and short timeouts the tests set themselves, so a failure path never waits for a default.</summary>
public abstract class FleetCloneTests(CloneFixture clone, FleetFixture fleet) : CloneTests(clone)
{
    protected FleetFixture Fleet { get; } = fleet;

    protected Task<BuildRun> BuildAsync(Dictionary<string, string?>? environment, params string[] arguments) =>
        Clone.BuildAsync(environment ?? Fleet.AwsEnvironment(),
            [.. arguments, .. arguments.Contains("--bake-seconds") ? Array.Empty<string>() : ["--bake-seconds", "0"], "--delivery-timeout", "60s", "--allow-unattested"]);

    protected Task<BuildRun> BuildAsync(params string[] arguments) => BuildAsync(null, arguments);
}
