using BuildGraph;

namespace BuildGraph.Tests;

public sealed class HelpAndPlanTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Documented : BuildBase
    {
        [Parameter("Configuration to build")] readonly Flavor Configuration = Flavor.Release;
        [Parameter("Registry password"), Secret] readonly string RegistryPassword = "default-secret";
        [Parameter("Hosts to deploy to")] readonly string[] Hosts = [];
        [Parameter("Verbose tests")] readonly bool Chatty;

        Target Clean => _ => _.Description("Deletes artifacts").Executes(() => { });
        Target Restore => _ => _.After(Clean).Executes(() => { });
        Target Compile => _ => _.Description("Builds the solution").DependsOn(Restore).Executes(() => { });
        Target Test => _ => _.Description("Runs the tests").DependsOn(Compile).OnlyWhenStatic(() => !Chatty).Executes(() => { });
        Target Publish => _ => _.Description("Publishes the app").DependsOn(Compile).After(Test).Triggers(Notify).Executes(() => { });
        Target Notify => _ => _.Unlisted().Executes(() => { });

        public static Target Default(Documented x) => x.Compile;
    }

    [Fact]
    public void Help_lists_targets_options_and_parameters_with_their_sources()
    {
        var run = harness.Run<Documented>(["--help"], Documented.Default);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            """
            Usage: build [<target>...] [options] [--<parameter> <value>...]

            Targets (* = default):
              Clean      Deletes artifacts
              Compile *  Builds the solution (depends on: Restore)
              Publish    Publishes the app (depends on: Compile)
              Restore
              Test       Runs the tests (depends on: Compile)

            Options:
              --target <name>...   Targets to run (same as naming them first)
              --skip [<name>...]   Skip these targets; without names, skip all but the invoked ones
              --plan               Print the execution plan and write a Mermaid graph; run nothing
              --verbose            Show debug output and stack traces
              --help, -h           Show this help

            Parameters (command line, then environment variable, then .nuke/parameters.json):
              --chatty [<bool>]                  Verbose tests
                                                 env CHATTY, parameters.json "Chatty"
              --configuration <Debug|Release>    Configuration to build (default: Release)
                                                 env CONFIGURATION, parameters.json "Configuration"
              --hosts <string>...                Hosts to deploy to
                                                 env HOSTS, parameters.json "Hosts"
              --registry-password <string>       Registry password (secret)
                                                 env REGISTRY_PASSWORD, parameters.json "RegistryPassword"

            """, run.Output);
    }

    [Fact]
    public void Help_works_even_when_the_parameters_are_broken()
    {
        harness.ParametersFile = "{ broken";
        var run = harness.Run<Documented>("--help", "--bogus");
        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("Usage: build", run.Output);
    }

    [Fact]
    public void Plan_prints_the_order_and_writes_a_mermaid_graph_without_running_anything()
    {
        var run = harness.Run<Documented>("--plan", "Publish", "Clean", "--chatty");
        Assert.Equal(0, run.ExitCode);
        var graph = Path.Combine(harness.Root, "artifacts", "plan.mmd");
        Assert.Equal(
            $"""
            Execution plan for Publish, Clean:
               1. Clean
               2. Restore
               3. Compile
               4. Publish
               5. Notify

            Graph: {graph}

            """.Replace("\n\n", "\n"), run.Output);
        Assert.Equal(
            """
            flowchart LR
              Clean
              Compile
              Notify
              Publish
              Restore
              Test
              Restore --> Compile
              Compile --> Publish
              Test -.-> Publish
              Publish -.->|triggers| Notify
              Clean -.-> Restore
              Compile --> Test
              classDef planned fill:#d8f3dc,stroke:#2d6a4f
              classDef skipped fill:#eeeeee,stroke:#999999,stroke-dasharray: 4 3
              class Clean,Restore,Compile,Publish,Notify planned

            """, File.ReadAllText(graph));
    }

    [Fact]
    public void Plan_shows_skipped_targets_with_the_reason()
    {
        var run = harness.Run<Documented>("--plan", "Publish", "Test", "--chatty");
        Assert.Contains("   3. Test     skipped (OnlyWhenStatic: !Chatty)", run.Lines);
        Assert.Contains("  class Test skipped", File.ReadAllLines(Path.Combine(harness.Root, "artifacts", "plan.mmd")));
    }

    [Fact]
    public void The_schema_lists_parameters_and_targets_and_is_written_only_when_it_changed()
    {
        var path = Path.Combine(harness.Root, ".nuke", "build.schema.json");
        harness.Run<Documented>("--plan", "Clean");
        var schema = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("properties");
        Assert.Equal("""["Debug","Release"]""", schema.GetProperty("Configuration").GetProperty("enum").GetRawText().Replace(" ", "").Replace("\n", ""));
        Assert.Equal("array", schema.GetProperty("Hosts").GetProperty("type").GetString());
        Assert.Equal("boolean", schema.GetProperty("Chatty").GetProperty("type").GetString());
        Assert.Equal("Registry password (secret)", schema.GetProperty("RegistryPassword").GetProperty("description").GetString());
        Assert.Equal(["Clean", "Compile", "Notify", "Publish", "Restore", "Test"],
            schema.GetProperty("Target").GetProperty("items").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!));

        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        harness.Run<Documented>("--plan", "Clean");
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));

        File.WriteAllText(path, "{}");
        harness.Run<Documented>("--plan", "Clean");
        Assert.Contains("\"Target\"", File.ReadAllText(path));
    }
}
