using System.Linq.Expressions;
using BuildGraph;

namespace BuildGraph.Tests;

public sealed class EngineTests
{
    [Theory]
    [InlineData("RegistryPassword", "registry-password", "REGISTRY_PASSWORD")]
    [InlineData("LockWait", "lock-wait", "LOCK_WAIT")]
    [InlineData("HTTPPort", "http-port", "HTTP_PORT")]
    [InlineData("Ec2InstanceId", "ec2-instance-id", "EC2_INSTANCE_ID")]
    [InlineData("Configuration", "configuration", "CONFIGURATION")]
    public void Names_are_kebab_case_on_the_command_line(string member, string kebab, string environment)
    {
        Assert.Equal(kebab, Naming.Kebab(member));
        Assert.Equal(environment, Naming.EnvironmentName(member));
    }

    static bool IsServerBuild => false;
    static string Configuration => "Debug";
    static Flavor Flavor => Flavor.Debug;

    [Fact]
    public void Conditions_print_as_written()
    {
        var local = 3;
        Assert.Equal("IsServerBuild", ExpressionText.Of((Expression<Func<bool>>)(() => IsServerBuild)));
        Assert.Equal("!IsServerBuild && Configuration == \"Release\"",
            ExpressionText.Of((Expression<Func<bool>>)(() => !IsServerBuild && Configuration == "Release")));
        Assert.Equal("local > 2 || Configuration.StartsWith(\"Rel\")",
            ExpressionText.Of((Expression<Func<bool>>)(() => local > 2 || Configuration.StartsWith("Rel"))));
        Assert.Equal("File.Exists(\"x\")", ExpressionText.Of((Expression<Func<bool>>)(() => File.Exists("x"))));
        Assert.Equal("Flavor == Flavor.Release", ExpressionText.Of((Expression<Func<bool>>)(() => Flavor == Flavor.Release)));
    }

    [Fact]
    public void Absolute_paths_combine_with_a_slash()
    {
        var root = new AbsolutePath("/repo/");
        Assert.Equal("/repo/artifacts/publish", (root / "artifacts" / "publish").ToString());
        Assert.Equal("/repo", (root / "src" / "..").Value);
        Assert.Equal("artifacts", (root / "artifacts").RelativeTo(root));
        Assert.Throws<ArgumentException>(() => new AbsolutePath("relative"));
    }

    sealed class Minimal : BuildBase
    {
        Target Only => _ => _.Executes(() =>
        {
            Log.Information($"root={RootDirectory} server={IsServerBuild}");
            Log.Debug("details");
        });
    }

    [Theory]
    [InlineData("CI", "true", true)]
    [InlineData("CI", "1", true)]
    [InlineData("GITHUB_ACTIONS", "TRUE", true)]
    [InlineData("CI", "false", false)]
    [InlineData("CI", "0", false)]
    [InlineData("OTHER", "true", false)]
    public void A_server_build_is_recognised_from_CI_or_GITHUB_ACTIONS(string variable, string value, bool expected)
    {
        using var harness = new BuildHarness();
        harness.Variables[variable] = value;
        Assert.Contains($"server={expected}", harness.Run<Minimal>("Only").Output);
    }

    [Fact]
    public void Debug_lines_appear_only_with_verbose()
    {
        using var harness = new BuildHarness();
        Assert.DoesNotContain("details", harness.Run<Minimal>("Only").Lines);
        Assert.Contains("details", harness.Run<Minimal>("Only", "--verbose").Lines);
    }

    [Fact]
    public void The_root_is_the_folder_with_dot_nuke_above_the_working_directory()
    {
        using var harness = new BuildHarness();
        var nested = Directory.CreateDirectory(Path.Combine(harness.Root, "src", "deep")).FullName;
        var output = new StringWriter();
        var result = BuildRunner.Run<Minimal>(["Only"], new BuildEnvironment
        {
            WorkingDirectory = nested,
            Output = output,
            Variables = new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true" },
        });
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"root={harness.Root} server=True", output.ToString());
    }

    [Fact]
    public void Without_a_dot_nuke_folder_the_run_fails_with_one_line()
    {
        var dir = Directory.CreateTempSubdirectory("buildgraph-noroot-");
        try
        {
            var error = new StringWriter();
            var result = BuildRunner.Run<Minimal>(["Only"], new BuildEnvironment { WorkingDirectory = dir.FullName, Error = error });
            Assert.Equal(1, result.ExitCode);
            Assert.Equal($"No .nuke folder in {dir.FullName} or any folder above it; run the build inside the repository.", error.ToString().TrimEnd());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Colors_are_used_only_when_asked_for()
    {
        using var harness = new BuildHarness();
        var plain = harness.Run<Minimal>("Only");
        Assert.DoesNotContain('\u001b', plain.Output);

        var output = new StringWriter();
        BuildRunner.Run<Minimal>(["Only"], new BuildEnvironment { WorkingDirectory = harness.Root, Output = output, Ansi = true });
        Assert.Contains('\u001b', output.ToString());
    }
}
