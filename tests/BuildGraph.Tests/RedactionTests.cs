using System.Diagnostics;
using BuildGraph;

namespace BuildGraph.Tests;

public sealed class RedactionTests : IDisposable
{
    readonly BuildHarness harness = new();

    public void Dispose() => harness.Dispose();

    sealed class Leaky : BuildBase
    {
        [Parameter("API token"), Secret] readonly string? Token;
        [Parameter("Seconds to wait")] readonly int LockWait;

        Target Push => _ => _.Executes(() =>
        {
            Log.Information($"token is {Token}");
            Log.Warning($"url https://user:{Uri.EscapeDataString(Token!)}@registry");
            Log.Output($"{{\"auth\":\"{Token}\"}}");
            ReportSummary($"pushed with {Token}");
            ReportClosingLine($"closing {Token}");
            throw new Exception($"login failed for {Token}");
        });

        Target Runtime => _ => _.Executes(() =>
        {
            var generated = "gen-" + "erated-42";
            Log.RegisterSecret(generated);
            Log.Information($"generated {generated}");
        });

        Target Tool => _ => _.Executes(async () =>
        {
            // A real child process printing the secret on stdout and stderr.
            var psi = new ProcessStartInfo("/bin/sh", ["-c", "echo \"out $SECRET\"; echo \"err $SECRET\" >&2"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.Environment["SECRET"] = Token;
            using var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log.Output(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log.Output(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await process.WaitForExitAsync();
        });
    }

    [Fact]
    public void Secrets_are_redacted_in_log_lines_notes_errors_and_the_closing_line()
    {
        var run = harness.Run<Leaky>("Push", "--token", "s3cr3t+/=");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            """
            ── Push ────────────────────────────────────────────────────────────────────────
            token is ***
            warning: url https://user:***@registry
            {"auth":"***"}
            Target Push failed: login failed for ***

            ╭────────┬────────┬──────────┬─────────────────╮
            │ Target │ Status │ Duration │ Note            │
            ├────────┼────────┼──────────┼─────────────────┤
            │ Push   │ Failed │ 0.0s     │ pushed with *** │
            ╰────────┴────────┴──────────┴─────────────────╯
            Build failed in 0.0s
            closing ***

            """, run.Output);
        Assert.Equal("closing ***", run.Result.ClosingLine);
    }

    [Fact]
    public void Secrets_from_the_environment_and_the_file_are_redacted_too()
    {
        harness.Variables["TOKEN"] = "from-env-secret";
        Assert.Contains("token is ***", harness.Run<Leaky>("Push").Lines);
        harness.Variables.Clear();
        harness.ParametersFile = """{ "Token": "from-file-secret" }""";
        var run = harness.Run<Leaky>("Push");
        Assert.Contains("token is ***", run.Lines);
        Assert.DoesNotContain("from-file-secret", run.Output);
    }

    [Fact]
    public void Secrets_are_redacted_in_parameter_errors()
    {
        var run = harness.Run<Leaky>("Push", "--token=hunter22", "--lock-wait", "hunter22");
        Assert.Equal("Parameter --lock-wait: '***' is not a valid int\n", run.Error);
    }

    [Theory]
    [InlineData("-s3cr3t")]
    [InlineData("--s3cr3t")]
    public void Secrets_that_look_like_options_are_redacted_in_errors_raised_before_they_are_read(string secret)
    {
        var run = harness.Run<Leaky>("Push", "--lock-wait", secret, "--token", secret);
        Assert.Equal("Parameter --lock-wait: '***' is not a valid int\n", run.Error);
        Assert.DoesNotContain(secret, run.Output + run.Error);
    }

    [Fact]
    public void Stack_traces_are_redacted()
    {
        var run = harness.Run<Leaky>("Push", "--token", "s3cr3t-value", "--verbose");
        Assert.Contains("   at ", run.Output);
        Assert.DoesNotContain("s3cr3t-value", run.Output);
    }

    [Fact]
    public void Values_registered_at_run_time_are_redacted()
    {
        Assert.Contains("generated ***", harness.Run<Leaky>("Runtime").Lines);
    }

    [Fact]
    public void Tool_output_streamed_through_the_log_is_redacted()
    {
        var run = harness.Run<Leaky>("Tool", "--token", "tool-secret");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("out ***", run.Lines);
        Assert.Contains("err ***", run.Lines);
        Assert.DoesNotContain("tool-secret", run.Output);
    }

    [Fact]
    public void A_multi_line_secret_is_redacted_line_by_line()
    {
        var redactor = new SecretRedactor();
        redactor.Add("-----BEGIN KEY-----\nQUJDREVGRw==\n-----END KEY-----");
        Assert.Equal("key line: ***", redactor.Redact("key line: QUJDREVGRw=="));
    }
}
