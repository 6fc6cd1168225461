using BuildGraph;

namespace BuildGraph.Tests;

/// <summary>A renamed target or parameter keeps its old name for one release: it still works, with a warning.</summary>
public sealed class DeprecationTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Renamed : BuildBase
    {
        [Parameter("The version to promote", DeprecatedNames = ["Release"])] readonly string? PromoteVersion;
        [Parameter("Registry password", DeprecatedNames = ["RegistryPass"]), Secret] readonly string? RegistryPassword;

        Target Compile => _ => _.Executes(() => Log.Information("compiled"));

        Target Promote => _ => _
            .DeprecatedName("Release")
            .DependsOn(Compile)
            .Executes(() => Log.Information($"promoting {PromoteVersion ?? "(none)"} with {RegistryPassword ?? "(no password)"}"));
    }

    static IEnumerable<string> Warnings(RunOutput run) => run.Lines.Where(l => l.Contains("deprecated", StringComparison.Ordinal));

    [Fact]
    public void The_old_target_and_option_names_run_the_new_ones_with_one_warning_each()
    {
        var run = harness.Run<Renamed>("Release", "--release", "1.4.0");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Compile", "Promote"], run.Headers);
        Assert.Contains("promoting 1.4.0 with (no password)", run.Lines);
        Assert.Equal(
            ["--release is deprecated and will be removed in the next release; use --promote-version",
             "Target Release is deprecated and will be removed in the next release; use Promote"],
            Warnings(run).Select(l => l.Trim()["warning: ".Length..]));
    }

    [Fact]
    public void Help_names_the_old_names()
    {
        var help = harness.Run<Renamed>("--help").Lines;

        Assert.Contains(help, l => l.StartsWith("  Promote", StringComparison.Ordinal) && l.Contains("(was Release, deprecated)"));
        Assert.Contains(help, l => l.EndsWith("env PROMOTE_VERSION, parameters.json \"PromoteVersion\"; was --release, deprecated", StringComparison.Ordinal));
    }

    [Fact]
    public void The_new_names_run_without_a_warning()
    {
        var run = harness.Run<Renamed>("Promote", "--promote-version", "1.4.0");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("promoting 1.4.0 with (no password)", run.Lines);
        Assert.Empty(Warnings(run));
    }

    [Fact]
    public void An_old_environment_variable_or_file_key_still_sets_the_parameter_and_the_new_one_wins()
    {
        harness.Variables["RELEASE"] = "1.3.0";
        var fromVariable = harness.Run<Renamed>("Promote");
        harness.Variables["PROMOTE_VERSION"] = "1.5.0";
        var both = harness.Run<Renamed>("Promote");
        harness.Variables.Clear();
        harness.ParametersFile = """{ "Release": "1.2.0", "Target": ["Release"] }""";
        var fromFile = harness.Run<Renamed>();

        Assert.Contains("promoting 1.3.0 with (no password)", fromVariable.Lines);
        Assert.Equal(["Environment variable RELEASE is deprecated and will be removed in the next release; use PROMOTE_VERSION"],
            Warnings(fromVariable).Select(l => l.Trim()["warning: ".Length..]));
        Assert.Contains("promoting 1.5.0 with (no password)", both.Lines);
        Assert.Empty(Warnings(both));
        Assert.Contains("promoting 1.2.0 with (no password)", fromFile.Lines);
        Assert.Equal(
            [".nuke/parameters.json key 'Release' is deprecated and will be removed in the next release; use 'PromoteVersion'",
             "Target Release is deprecated and will be removed in the next release; use Promote"],
            Warnings(fromFile).Select(l => l.Trim()["warning: ".Length..]));
        Assert.DoesNotContain(fromFile.Lines, l => l.Contains("is not a parameter of this build", StringComparison.Ordinal));
    }

    [Fact]
    public void A_secret_given_under_its_old_name_is_redacted()
    {
        var run = harness.Run<Renamed>("Promote", "--registry-pass", "s3cr3t-value");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("promoting (none) with ***", run.Lines);
        Assert.DoesNotContain("s3cr3t-value", run.Output + run.Error);
    }

    [Fact]
    public void Skipping_the_old_target_name_skips_the_new_target()
    {
        var run = harness.Run<Renamed>("Compile", "Promote", "--skip", "Release");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Compile"], run.Headers);
        Assert.Equal("Compile:Succeeded, Promote:Skipped", run.Statuses);
    }

    sealed class Clashing : BuildBase
    {
        Target Compile => _ => _.Executes(() => { });
        Target Build => _ => _.DeprecatedName("Compile").Executes(() => { });
    }

    sealed class ClashingParameter : BuildBase
    {
        [Parameter("New", DeprecatedNames = ["Old"])] readonly string? New;
        [Parameter("Old")] readonly string? Old;
        Target Compile => _ => _.Executes(() => { });
    }

    [Fact]
    public void A_deprecated_name_that_is_a_live_name_is_refused_in_one_line()
    {
        var target = harness.Run<Clashing>("Build");
        var parameter = harness.Run<ClashingParameter>("Compile");

        Assert.NotEqual(0, target.ExitCode);
        Assert.Contains("Target Build's deprecated name Compile is a target.", target.Output + target.Error);
        Assert.NotEqual(0, parameter.ExitCode);
        Assert.Contains("Parameter New's deprecated name Old is the name of a parameter.", parameter.Output + parameter.Error);
    }
}
