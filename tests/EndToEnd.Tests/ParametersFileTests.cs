using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>.nuke/parameters.json, edited in the clone (this repository's copy is never touched).</summary>
[Collection(CloneCollection.Name)]
public sealed class ParametersFileTests(CloneFixture clone) : CloneTests(clone)
{
    string ParametersFile => Path.Combine(Root, ".nuke", "parameters.json");

    [Theory]
    // A doubled comma on line 3: the second one is character 17.
    [InlineData("{\n  \"$schema\": \"./build.schema.json\",\n  \"LockWait\": 5,,\n}\n", 3, 17)]
    // A value where a name belongs.
    [InlineData("{ \"ImageName\": \"webapp\" x }", 1, 25)]
    // Cut off before the closing brace.
    [InlineData("{\n  \"ImageName\": \"webapp\"\n", 3, 1)]
    public async Task Malformed_json_fails_in_one_line_naming_the_file_and_the_position(string content, int line, int position)
    {
        await File.WriteAllTextAsync(ParametersFile, content);

        var run = await Clone.BuildAsync("Version");

        var error = BuildAssert.UsageError(run);
        Assert.StartsWith($"Malformed .nuke/parameters.json at line {line}, position {position}: ", error);
    }

    [Fact]
    public async Task A_top_level_that_is_not_an_object_is_refused()
    {
        await File.WriteAllTextAsync(ParametersFile, "[\"Version\"]");

        var run = await Clone.BuildAsync("Version");

        Assert.Equal("Malformed .nuke/parameters.json: the top level must be an object.", BuildAssert.UsageError(run));
    }

    [Fact]
    public async Task Help_still_works_with_a_malformed_file()
    {
        await File.WriteAllTextAsync(ParametersFile, "{ oops");

        var run = await Clone.BuildAsync("--help");

        BuildAssert.Succeeded(run);
        Assert.StartsWith("Usage: build", run.OutputLines.First());
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_in_the_file_names_the_parameter_the_type_and_the_file()
    {
        await File.WriteAllTextAsync(ParametersFile, "{ \"$schema\": \"./build.schema.json\", \"LockWait\": \"abc\" }");

        var run = await Clone.BuildAsync("Version");

        Assert.Equal("Parameter --lock-wait: 'abc' is not a valid timespan (e.g. 90s, 5m, 1h, 00:05:00) (from .nuke/parameters.json)", BuildAssert.UsageError(run));
    }

    [Fact]
    public async Task The_command_line_wins_over_a_wrong_value_in_the_file()
    {
        await File.WriteAllTextAsync(ParametersFile, "{ \"LockWait\": \"abc\", \"VersionOverride\": \"7.0.0\" }");

        var run = await Clone.BuildAsync("Version", "--lock-wait", "5", "--version-override", "7.7.7");

        BuildAssert.Succeeded(run);
        Assert.Equal("Version: 7.7.7", run.SummaryNote("Version"));
    }
}
