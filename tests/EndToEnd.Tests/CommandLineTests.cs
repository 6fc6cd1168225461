using System.Text.RegularExpressions;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// Runs ./build.sh in this repository for what fails or returns before any target runs (no compile, no deploy, no
/// file written except the schema the build always regenerates).
/// </summary>
public sealed partial class CommandLineTests
{
    static string Root => Repository.Root;

    [GeneratedRegex(@"^  (?<name>[A-Z]\w+)(?<default> \*)?\s{2,}(?<description>\S.*)$")]
    private static partial Regex TargetLine();

    [GeneratedRegex(@"^  (?<option>--[a-z][a-z-]*) (?<type>\[?<[^>]+>\]?)\s{2,}(?<description>\S.*)$")]
    private static partial Regex ParameterLine();

    [GeneratedRegex(@"^\s+env (?<variable>[A-Z][A-Z0-9_]*), parameters\.json ""(?<key>[A-Za-z]+)""(?:; was (?<was>--[a-z-]+(?:, --[a-z-]+)*), deprecated)?$")]
    private static partial Regex SourcesLine();

    static IReadOnlyList<string> Section(BuildRun run, string heading, string? nextHeading)
    {
        var lines = run.StandardOutput.Replace("\r\n", "\n").Split('\n').ToList();
        var start = lines.FindIndex(l => l.StartsWith(heading, StringComparison.Ordinal));
        Assert.True(start >= 0, $"No '{heading}' section in the help.\n{run}");
        var end = nextHeading is null ? lines.Count : lines.FindIndex(start + 1, l => l.StartsWith(nextHeading, StringComparison.Ordinal));
        Assert.True(end > start, $"No '{nextHeading}' after '{heading}' in the help.\n{run}");
        return lines.GetRange(start + 1, end - start - 1).Where(l => l.Trim().Length > 0).ToList();
    }

    static async Task<IReadOnlyList<Match>> HelpTargetsAsync()
    {
        var help = await BuildScript.RunAsync(Root, "--help");
        BuildAssert.Succeeded(help);
        var lines = Section(help, "Targets", "Options:");
        var targets = lines.Select(l => TargetLine().Match(l)).ToList();
        Assert.True(targets.All(m => m.Success), $"Lines of the targets section that are not 'Name  description':\n" +
            string.Join('\n', lines.Where(l => !TargetLine().IsMatch(l))));
        return targets;
    }

    [Fact]
    public async Task Help_lists_targets_with_descriptions_and_marks_the_default()
    {
        var targets = await HelpTargetsAsync();

        var names = targets.Select(m => m.Groups["name"].Value).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "Restore", "Compile", "Test", "Version", "Publish", "DockerBuild", "SmokeTest", "Push", "DeployStaging", "DeployProduction", "Rollback", "CutRelease" });
        Assert.All(targets, m => Assert.True(m.Groups["description"].Value.Length >= 15, $"{m.Groups["name"]} has no real description: '{m.Groups["description"]}'"));
        var defaults = targets.Where(m => m.Groups["default"].Success).Select(m => m.Groups["name"].Value).ToList();
        Assert.Equal(["Compile"], defaults);
        // Dependencies are shown with the target.
        Assert.Contains("(depends on: Restore, Version)", targets.Single(m => m.Groups["name"].Value == "Compile").Groups["description"].Value);
        Assert.EndsWith("(was Release, deprecated)", targets.Single(m => m.Groups["name"].Value == "CutRelease").Groups["description"].Value);
    }

    [Fact]
    public async Task Help_lists_each_parameter_with_its_type_environment_variable_and_file_key()
    {
        var help = await BuildScript.RunAsync(Root, "--help");
        BuildAssert.Succeeded(help);
        Assert.Equal("", help.StandardError);

        var lines = Section(help, "Parameters", null);
        var parameters = new Dictionary<string, (string Type, string Description, string Variable, string Key)>();
        var deprecated = new Dictionary<string, string>();
        for (var i = 0; i < lines.Count; i++)
        {
            var parameter = ParameterLine().Match(lines[i]);
            if (!parameter.Success) continue;
            Assert.True(i + 1 < lines.Count, $"{lines[i]} is the last line: no sources line after it");
            var sources = SourcesLine().Match(lines[i + 1]);
            Assert.True(sources.Success, $"After '{lines[i]}' expected 'env NAME, parameters.json \"Key\"', got '{lines[i + 1]}'");
            parameters[parameter.Groups["option"].Value] = (parameter.Groups["type"].Value, parameter.Groups["description"].Value,
                sources.Groups["variable"].Value, sources.Groups["key"].Value);
            if (sources.Groups["was"].Success) deprecated[parameter.Groups["option"].Value] = sources.Groups["was"].Value;
        }

        Assert.True(parameters.Count >= 10, $"Only {parameters.Count} parameters found in the help.\n{help}");
        Assert.Equal(("<timespan>", "LOCK_WAIT", "LockWait"), (parameters["--lock-wait"].Type, parameters["--lock-wait"].Variable, parameters["--lock-wait"].Key));
        Assert.Contains("(default: 0s)", parameters["--lock-wait"].Description);
        Assert.Equal(("<string>", "REGISTRY_PASSWORD", "RegistryPassword"), (parameters["--registry-password"].Type, parameters["--registry-password"].Variable, parameters["--registry-password"].Key));
        Assert.Contains("(secret)", parameters["--registry-password"].Description);
        Assert.Equal(("<Debug|Release>", "CONFIGURATION"), (parameters["--configuration"].Type, parameters["--configuration"].Variable));
        Assert.Equal(("<Staging|Production>", "ENVIRONMENT"), (parameters["--environment"].Type, parameters["--environment"].Variable));
        Assert.Equal("[<bool>]", parameters["--yes"].Type);
        Assert.Equal(new Dictionary<string, string> { ["--promote-version"] = "--release" }, deprecated);
        // Every variable is the option in upper snake case.
        Assert.All(parameters, p => Assert.Equal(p.Key[2..].Replace('-', '_').ToUpperInvariant(), p.Value.Variable));
    }

    [Theory]
    [InlineData("Foo")]
    [InlineData("Deploy")]
    public async Task An_unknown_target_fails_in_one_line_that_lists_the_available_targets(string target)
    {
        var run = await BuildScript.RunAsync(Root, target);

        var line = BuildAssert.UsageError(run);
        Assert.StartsWith($"Unknown target '{target}'.", line);
        var listed = Regex.Match(line, "Available targets: (.+)$");
        Assert.True(listed.Success, line);
        var available = listed.Groups[1].Value.Split(", ").Select(t => t.Trim()).ToList();
        var help = (await HelpTargetsAsync()).Select(m => m.Groups["name"].Value).ToList();
        Assert.Equal(help.Order(), available.Order());
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_names_the_parameter_and_the_expected_type()
    {
        var run = await BuildScript.RunAsync(Root, "Version", "--lines", "abc");

        var line = BuildAssert.UsageError(run);
        Assert.Equal("Parameter --lines: 'abc' is not a valid int", line);
    }

    [Fact]
    public async Task A_wrong_enum_value_lists_the_valid_ones()
    {
        var run = await BuildScript.RunAsync(Root, "Version", "--configuration", "Fast");

        var line = BuildAssert.UsageError(run);
        Assert.Equal("Parameter --configuration: 'Fast' is not a valid BuildConfiguration (Debug, Release)", line);
    }

    [Fact]
    public async Task A_wrong_value_from_an_environment_variable_names_the_variable()
    {
        var run = await BuildScript.RunAsync(Root, ["Version"], new Dictionary<string, string?> { ["LOCK_WAIT"] = "soon" });

        var line = BuildAssert.UsageError(run);
        Assert.Equal("Parameter --lock-wait: 'soon' is not a valid timespan (e.g. 90s, 5m, 1h, 00:05:00) (from environment variable LOCK_WAIT)", line);
    }

    [Theory]
    [InlineData("Rollback")]
    [InlineData("Logs")]
    public async Task A_missing_required_parameter_names_it_and_the_target_that_needs_it(string target)
    {
        var run = await BuildScript.RunAsync(Root, target);

        var line = BuildAssert.UsageError(run);
        Assert.Equal($"Missing required parameter --environment (needed by {target})", line);
    }

    [Fact]
    public async Task The_old_target_name_Release_still_runs_CutRelease_with_a_one_line_warning()
    {
        var run = await BuildScript.RunAsync(Root, "Release");

        Assert.Equal("Missing required parameter --release-version (needed by CutRelease)", BuildAssert.SingleErrorLine(run));
        Assert.Equal(["warning: Target Release is deprecated and will be removed in the next release; use CutRelease"],
            run.OutputLines.Where(l => l.Trim().Length > 0));
    }

    [Fact]
    public async Task The_old_option_release_still_sets_promote_version_with_a_one_line_warning()
    {
        var run = await BuildScript.RunAsync(Root, "Rollback", "--release", "1.4.0");

        Assert.Equal("Missing required parameter --environment (needed by Rollback)", BuildAssert.SingleErrorLine(run));
        Assert.Equal(["warning: --release is deprecated and will be removed in the next release; use --promote-version"],
            run.OutputLines.Where(l => l.Trim().Length > 0));
    }

    [Fact]
    public async Task An_unknown_option_fails_in_one_line()
    {
        var run = await BuildScript.RunAsync(Root, "Version", "--no-such-option");

        var line = BuildAssert.UsageError(run);
        Assert.Contains("--no-such-option", line);
        Assert.Contains("--help", line);
    }
}
