namespace Delivery.Core.Tests;

public sealed class ToolRunnerTests
{
    [Fact]
    public async Task Prints_the_command_streams_each_line_and_returns_the_output()
    {
        var log = new List<string>();
        var output = new List<string>();

        var result = await new ToolRunner(log.Add, output.Add).RunAsync("/bin/sh", ["-c", "echo one; echo two >&2", "a b"]);

        Assert.Equal(["> sh -c 'echo one; echo two >&2' 'a b'"], log);
        Assert.Equal(["one", "two"], output.Order());
        Assert.Equal("one\n", result.StandardOutput);
    }

    [Fact]
    public async Task A_failing_tool_throws_one_line_unless_failure_is_allowed()
    {
        var runner = new ToolRunner(_ => { }, _ => { });

        var error = await Assert.ThrowsAsync<DeliveryException>(() => runner.RunAsync("/bin/sh", ["-c", "exit 3"]));
        var allowed = await runner.RunAsync("/bin/sh", ["-c", "exit 3"], allowFailure: true);

        Assert.Equal("'sh -c' exited with code 3", error.Message);
        Assert.Equal(3, allowed.ExitCode);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "''")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("trx;LogFileName=a.trx", "'trx;LogFileName=a.trx'")]
    [InlineData("$HOME", "'$HOME'")]
    public void Quotes_an_argument_as_a_shell_would_read_it_back(string argument, string quoted) =>
        Assert.Equal(quoted, ToolRunner.Quote(argument));

    [Theory]
    [InlineData("plain")]
    [InlineData("it's a 'quoted' $HOME; `x` | y")]
    public async Task A_quoted_argument_reads_back_unchanged_in_sh(string argument)
    {
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "printf %s " + ToolRunner.Quote(argument)]);
        Assert.Equal(argument, result.StandardOutput.TrimEnd('\n'));
    }
}
