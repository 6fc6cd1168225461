using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>Environment names are parsed at the command line, before any target runs. Runs in the clone, away from the real deploy.</summary>
[Collection(CloneCollection.Name)]
public sealed class EnvironmentNameTests(CloneFixture clone) : CloneTests(clone)
{
    [Fact]
    public async Task An_unknown_environment_fails_in_one_line_that_lists_the_valid_ones()
    {
        var run = await Clone.BuildAsync("Logs", "--environment", "qa");

        Assert.Equal("Parameter --environment: 'qa' is not a valid EnvironmentName (Staging, Production)", BuildAssert.UsageError(run));
    }

    [Fact]
    public async Task An_unknown_environment_from_the_environment_variable_is_refused_the_same_way()
    {
        var run = await Clone.BuildAsync(new Dictionary<string, string?> { ["ENVIRONMENT"] = "qa" }, "Logs");

        Assert.Equal("Parameter --environment: 'qa' is not a valid EnvironmentName (Staging, Production) (from environment variable ENVIRONMENT)", BuildAssert.UsageError(run));
    }
}
