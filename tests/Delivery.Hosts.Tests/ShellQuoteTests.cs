using Delivery.Core;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

public sealed class ShellQuoteTests
{
    [Theory]
    [InlineData("", "''")]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("''", "''\\'''\\'''")]
    [InlineData("$HOME `id` $(id) \\ \" *", "'$HOME `id` $(id) \\ \" *'")]
    [InlineData("two\nlines", "'two\nlines'")]
    public void Quote_is_exact(string value, string quoted) => Assert.Equal(quoted, ShellQuote.Quote(value));

    [Fact]
    public void A_NUL_character_is_refused() =>
        Assert.Throws<DeliveryException>(() => ShellQuote.Quote("a\0b"));

    [Fact]
    public async Task Bash_reads_every_quoted_value_back_unchanged()
    {
        string[] values = ["it's", "'", "$(touch /tmp/hdt-should-not-exist)", "`id`", "a\"b\\c", "tab\there", "new\nline", "ünïcødé", "*?[a]", "-n", "; rm -rf /"];
        var script = string.Join("", values.Select(v => $"printf '%s\\0' {ShellQuote.Quote(v)}\n"));
        var result = await ProcessRunner.RunCheckedAsync(Tools.Require("bash", "bash"), ["-c", script]);
        Assert.Equal(values, result.StandardOutput.Split('\0')[..^1]);
        Assert.False(File.Exists("/tmp/hdt-should-not-exist"));
    }
}
