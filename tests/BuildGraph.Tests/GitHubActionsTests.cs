using BuildGraph;

namespace BuildGraph.Tests;

/// <summary>With GITHUB_ACTIONS=true each target is a log group, a failure an annotation, and the job summary file
/// receives the table and the sections targets add. Compared exactly, as the runner reads them.</summary>
public sealed class GitHubActionsTests : IDisposable
{
    readonly BuildHarness harness = new();
    readonly string summaryFile;

    public GitHubActionsTests()
    {
        summaryFile = Path.Combine(harness.Root, "step-summary.md");
        File.WriteAllText(summaryFile, "earlier step\n");
        harness.Variables["GITHUB_ACTIONS"] = "true";
        harness.Variables["GITHUB_STEP_SUMMARY"] = summaryFile;
    }

    public void Dispose() => harness.Dispose();

    sealed class Deploying : BuildBase
    {
        [Parameter("a secret"), Secret] readonly string? Token;

        Target Compile => _ => _.Executes(() => Log.Information("compiling"));
        Target Skipped => _ => _.OnlyWhenDynamic(() => false).Executes(() => { });
        Target Deploy => _ => _.DependsOn(Compile, Skipped).Executes(() =>
        {
            Log.Progress("bake: 1/2 s");
            AddStepSummary($"### Deploy report\n\n| Environment | Version |\n|---|---|\n| staging | 1.2.3 ({Token}) |\n");
            ReportSummary("1.2.3 | on :8081");
            throw new Delivery("1.2.3 failed the bake on staging: 5xx rate 0.2815 > limit 0.01 (96 of 341 requests); rolled back to 1.2.2\nsecond line 50% of " + Token);
        });
        Target Notify => _ => _.DependsOn(Deploy).Executes(() => { });
    }

    sealed class Delivery(string message) : Exception(message);

    [Fact]
    public void Groups_annotation_and_job_summary_are_exact()
    {
        var run = harness.Run<Deploying>("Notify", "--token", "s3cr3t");

        Assert.Equal(1, run.ExitCode);
        var start = run.Lines.ToList().IndexOf("::group::Compile");
        Assert.Equal(
        [
            "::group::Compile",
            "compiling",
            "::endgroup::",
            "Skipping Skipped: OnlyWhenDynamic: false",
            "── Deploy ──────────────────────────────────────────────────────────────────────",
            "::group::Deploy",
            "bake: 1/2 s",
            "Target Deploy failed: 1.2.3 failed the bake on staging: 5xx rate 0.2815 > limit 0.01 (96 of 341 requests); rolled back to 1.2.2 second line 50% of ***",
            "::endgroup::",
            "::error title=Deploy failed::1.2.3 failed the bake on staging: 5xx rate 0.2815 > limit 0.01 (96 of 341 requests); rolled back to 1.2.2 second line 50%25 of ***",
        ], run.Lines.Skip(start).Take(10));
        Assert.Equal(
            """
            earlier step
            ### Build failed

            | Target | Status | Duration | Note |
            |---|---|---|---|
            | Compile | ✅ Succeeded | 0.0s |  |
            | Skipped | Skipped |  | OnlyWhenDynamic: false |
            | Deploy | ❌ Failed | 0.0s | 1.2.3 \| on :8081 |
            | Notify | Not run |  |  |

            ### Deploy report

            | Environment | Version |
            |---|---|
            | staging | 1.2.3 (***) |


            """, File.ReadAllText(summaryFile));
    }

    [Fact]
    public void Outside_GitHub_Actions_there_are_no_workflow_commands_and_no_summary_file()
    {
        harness.Variables.Remove("GITHUB_ACTIONS");
        var run = harness.Run<Deploying>("Notify");

        Assert.DoesNotContain(run.Lines, l => l.StartsWith("::", StringComparison.Ordinal));
        Assert.Contains("bake: 1/2 s", run.Lines);   // not a terminal: the progress line is an ordinary line
        Assert.Equal("earlier step\n", File.ReadAllText(summaryFile));
    }

    [Theory]
    [InlineData("a%b\r\nc", "a%25b%0D%0Ac")]
    public void Command_data_is_escaped_as_the_runner_expects(string raw, string escaped)
    {
        Assert.Equal(escaped, GitHubActions.EscapeData(raw));
        Assert.Equal("::error title=Deploy%3A staging%2C production::x", GitHubActions.Error("Deploy: staging, production", "x"));
    }
}
