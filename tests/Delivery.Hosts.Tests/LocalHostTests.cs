using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

public sealed class LocalHostTests
{
    [Fact]
    public async Task Output_lines_stream_in_order_and_the_exit_code_is_returned()
    {
        var seen = new List<string>();
        var result = await new LocalHost().RunAsync("exec 2>&1\necho one\necho two >&2\nread -r x || echo 'stdin is empty'\nexit 3\n", seen.Add);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal(["one", "two", "stdin is empty"], result.Lines);
        Assert.Equal(result.Lines, seen);
    }

    [Fact]
    public async Task Cancelling_sends_TERM_so_the_exit_trap_runs()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"hdt-trap-{Guid.NewGuid():N}");
        using var cancel = new CancellationTokenSource();
        var lines = new List<string>();
        var run = new LocalHost().RunAsync($"""
            trap 'echo cleaned > {marker}' EXIT
            trap 'exit 143' TERM
            echo started
            while :; do sleep 0.1; done
            """, line => { lock (lines) lines.Add(line); if (line == "started") cancel.CancelAfter(200); }, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal("cleaned\n", File.ReadAllText(marker));
        File.Delete(marker);
    }

    [Fact]
    public async Task The_script_file_is_removed_afterwards()
    {
        var result = await new LocalHost().RunAsync("echo \"$0\"\n");
        var path = result.Lines.Single();
        Assert.StartsWith(Path.GetTempPath(), path);
        Assert.False(File.Exists(path));
    }
}
