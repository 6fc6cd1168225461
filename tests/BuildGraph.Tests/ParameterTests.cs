using BuildGraph;

namespace BuildGraph.Tests;

public enum Flavor { Debug, Release }

public sealed class ParameterTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Configurable : BuildBase
    {
        [Parameter("Configuration to build")] readonly string Configuration = "Debug";
        [Parameter("Seconds to wait for the deploy lock")] readonly int LockWait = 30;
        [Parameter("Build number")] long BuildNumber { get; set; }
        [Parameter("Share of traffic")] public double Weight { get; private set; } = 0.5;
        [Parameter("Run the slow tests")] readonly bool Slow;
        [Parameter("Flavor")] Flavor Flavor { get; } = Flavor.Debug;
        [Parameter("Hosts to deploy to")] readonly string[] Hosts = [];
        [Parameter("Port override")] readonly int? Port;
        [Parameter("Health timeout")] readonly TimeSpan? HealthTimeout;

        Target Show => _ => _.Executes(() =>
        {
            Log.Information($"Configuration={Configuration}");
            Log.Information($"LockWait={LockWait} BuildNumber={BuildNumber} Weight={Weight} Slow={Slow} Flavor={Flavor}");
            Log.Information($"Hosts={string.Join("|", Hosts)} Port={Port?.ToString() ?? "null"} HealthTimeout={HealthTimeout?.ToString() ?? "null"}");
        });
    }

    string Show(params string[] args)
    {
        var run = harness.Run<Configurable>(["Show", .. args]);
        Assert.True(run.ExitCode == 0, run.Error);
        return string.Join("\n", run.Lines.Where(l => l.Contains('=')));
    }

    [Fact]
    public void Defaults_come_from_the_initializers()
    {
        Assert.Equal(
            "Configuration=Debug\nLockWait=30 BuildNumber=0 Weight=0.5 Slow=False Flavor=Debug\nHosts= Port=null HealthTimeout=null",
            Show());
    }

    [Fact]
    public void Every_supported_type_converts_from_the_command_line()
    {
        Assert.Equal(
            "Configuration=Release\nLockWait=5 BuildNumber=9000000000 Weight=0.25 Slow=True Flavor=Release\nHosts=a|b Port=8443 HealthTimeout=00:01:30",
            Show("--configuration", "Release", "--lock-wait", "5", "--build-number", "9000000000", "--weight", "0.25",
                "--slow", "--flavor", "release", "--hosts", "a", "b", "--port", "8443", "--health-timeout", "90s"));
    }

    [Fact]
    public void A_flag_takes_an_explicit_value_too()
    {
        harness.Variables["SLOW"] = "true";
        Assert.Contains("Slow=False", Show("--slow", "false"));
    }

    [Fact]
    public void Command_line_beats_environment_beats_parameters_file()
    {
        harness.ParametersFile = """{ "$schema": "./build.schema.json", "Configuration": "FromFile", "lock-wait": 7 }""";
        Assert.StartsWith("Configuration=FromFile\nLockWait=7 ", Show());

        harness.Variables["CONFIGURATION"] = "FromEnv";
        Assert.StartsWith("Configuration=FromEnv\nLockWait=7 ", Show());

        Assert.StartsWith("Configuration=FromCli\nLockWait=7 ", Show("--configuration", "FromCli"));
    }

    [Theory]
    [InlineData("LOCK_WAIT")]
    [InlineData("lockwait")]
    [InlineData("Lock-Wait")]
    public void Environment_variables_match_ignoring_case_and_punctuation(string name)
    {
        harness.Variables[name] = "12";
        Assert.Contains("LockWait=12 ", Show());
    }

    [Fact]
    public void Arrays_from_the_environment_and_the_file()
    {
        harness.Variables["HOSTS"] = "web1, web2 web3";
        Assert.Contains("Hosts=web1|web2|web3 ", Show());
        harness.Variables.Clear();
        harness.ParametersFile = """{ "Hosts": ["x", "y"], "Slow": true, "HealthTimeout": "00:00:10" }""";
        Assert.Contains("Hosts=x|y Port=null HealthTimeout=00:00:10", Show());
    }

    [Fact]
    public void A_wrong_type_names_the_parameter_and_the_expected_type()
    {
        var run = harness.Run<Configurable>("Show", "--lock-wait", "abc");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Parameter --lock-wait: 'abc' is not a valid int\n", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public void A_wrong_type_from_the_environment_names_the_variable()
    {
        harness.Variables["PORT"] = "eighty";
        var run = harness.Run<Configurable>("Show");
        Assert.Equal("Parameter --port: 'eighty' is not a valid int (from environment variable PORT)\n", run.Error);
    }

    [Fact]
    public void A_wrong_enum_value_lists_the_allowed_ones()
    {
        harness.ParametersFile = """{ "Flavor": "Fast" }""";
        var run = harness.Run<Configurable>("Show");
        Assert.Equal("Parameter --flavor: 'Fast' is not a valid Flavor (Debug, Release) (from .nuke/parameters.json)\n", run.Error);
    }

    [Fact]
    public void The_position_of_a_malformed_file_counts_characters_not_bytes()
    {
        harness.ParametersFile = "{ \"Configuration\": \"Déjà vu\" \"LockWait\": 5 }";
        var run = harness.Run<Configurable>("Show");
        Assert.StartsWith("Malformed .nuke/parameters.json at line 1, position 30: ", run.Error);
    }

    [Fact]
    public void A_malformed_parameters_file_names_the_file_and_position()
    {
        harness.ParametersFile = "{\n  \"Configuration\": \"Release\"\n  \"LockWait\": 5\n}";
        var run = harness.Run<Configurable>("Show");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Malformed .nuke/parameters.json at line 3, position 3: '\"' is invalid after a value. Expected either ',', '}', or ']'.\n", run.Error);
    }

    [Fact]
    public void Unknown_keys_in_the_parameters_file_are_reported()
    {
        harness.ParametersFile = """{ "Configuraton": "Release" }""";
        var run = harness.Run<Configurable>("Show");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("warning: .nuke/parameters.json: 'Configuraton' is not a parameter of this build", run.Lines[0]);
    }

    [Fact]
    public void An_unknown_option_is_an_error()
    {
        var run = harness.Run<Configurable>("Show", "--configuratoin", "Release");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Unknown option '--configuratoin'. Run with --help to see the targets and parameters.\n", run.Error);
    }

    [Fact]
    public void An_option_without_its_value_is_an_error()
    {
        var run = harness.Run<Configurable>("Show", "--lock-wait");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Required argument missing for option: '--lock-wait'. Run with --help to see the targets and parameters.\n", run.Error);
    }

    sealed class Deploying : BuildBase
    {
        [Parameter("Registry user")] readonly string? RegistryUser;
        [Parameter("Registry password"), Secret] readonly string? RegistryPassword;
        [Parameter("Hosts")] readonly string[] Hosts = [];

        Target Compile => _ => _.Executes(() => Log.Information("compiled"));
        Target Push => _ => _.DependsOn(Compile).Requires(() => RegistryUser).Requires(() => RegistryPassword)
            .Executes(() => Log.Information("pushed"));
        Target Deploy => _ => _.DependsOn(Push).Requires(() => Hosts).Executes(() => { });
        Target Local => _ => _.Requires(() => RegistryPassword).OnlyWhenStatic(() => false).Executes(() => { });
    }

    [Fact]
    public void A_missing_required_parameter_fails_before_any_target_runs()
    {
        harness.Variables["REGISTRY_USER"] = "ci";
        var run = harness.Run<Deploying>("Push");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Missing required parameter --registry-password (needed by Push)\n", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public void All_missing_parameters_are_named_in_one_line()
    {
        var run = harness.Run<Deploying>("Deploy");
        Assert.Equal("Missing required parameters: --registry-user (needed by Push), --registry-password (needed by Push), --hosts (needed by Deploy)\n", run.Error);
    }

    [Fact]
    public void Requirements_of_skipped_targets_are_not_checked()
    {
        Assert.Equal(0, harness.Run<Deploying>("Local").ExitCode);
    }

    [Fact]
    public void Required_parameters_given_let_the_run_proceed()
    {
        harness.Variables["registry_user"] = "ci";
        harness.Variables["REGISTRYPASSWORD"] = "pw";
        var run = harness.Run<Deploying>("Push");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("pushed", run.Lines);
    }

    sealed class Renamed : BuildBase
    {
        [Parameter("Environment to deploy to", Name = "Environment")] readonly string? TargetEnvironment;

        Target Deploy => _ => _.Requires(() => TargetEnvironment).Executes(() => Log.Information($"deploying to {TargetEnvironment}"));
    }

    [Fact]
    public void A_parameter_can_be_named_apart_from_its_member()
    {
        Assert.Contains("deploying to staging", harness.Run<Renamed>("Deploy", "--environment", "staging").Lines);
        Assert.Equal("Missing required parameter --environment (needed by Deploy)\n", harness.Run<Renamed>("Deploy").Error);
        harness.Variables["ENVIRONMENT"] = "production";
        Assert.Contains("deploying to production", harness.Run<Renamed>("Deploy").Lines);
        Assert.Contains("  --environment <string>    Environment to deploy to", harness.Run<Renamed>("--help").Lines);
    }
}
