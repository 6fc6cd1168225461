using Delivery.Workflows.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Delivery.Workflows.Tests;

public class YamlTextTests
{
    [Theory]
    [InlineData("ubuntu-latest")]
    [InlineData("${{ secrets.REGISTRY_PASSWORD }}")]
    [InlineData("github.ref == 'refs/heads/main' && github.event_name == 'push'")]
    [InlineData("./build.sh DeployProduction --promote-version \"$GITHUB_REF_NAME\"")]
    [InlineData("~/.nuget/packages")]
    [InlineData(".tools")]
    [InlineData("always()")]
    public void Values_that_read_back_unchanged_stay_plain(string text) => Assert.True(YamlText.CanBePlain(text));

    [Theory]
    [InlineData("on")]
    [InlineData("Off")]
    [InlineData("yes")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("10")]
    [InlineData("1.5")]
    [InlineData(".5")]
    [InlineData("2024-01-01")]
    [InlineData("[0-9]+.[0-9]+.[0-9]+")]
    [InlineData("*.yml")]
    [InlineData("a: b")]
    [InlineData("value #comment")]
    [InlineData("- item")]
    [InlineData(" padded")]
    [InlineData("")]
    public void Values_a_parser_would_read_differently_are_quoted(string text) => Assert.False(YamlText.CanBePlain(text));

    [Fact]
    public void Every_text_value_reads_back_as_the_same_string()
    {
        string[] values =
        [
            "on", "true", "no", "null", "~", "42", "0x1F", "1.5", "[0-9]+.[0-9]+.[0-9]+", "a: b", "x #y", "${{ vars.A }}",
            "'quoted'", "\"double\"", "line one\nline two\n", " leading", "", "-dash", "*star", "@at", "%pct", "!tag", "&anchor",
        ];
        var map = new YamlMap();
        for (var i = 0; i < values.Length; i++) map.Add($"k{i}", values[i]);

        var stream = new YamlStream();
        stream.Load(new StringReader(YamlText.Write(map)));
        var read = (YamlMappingNode)stream.Documents.Single().RootNode;

        for (var i = 0; i < values.Length; i++)
        {
            var node = (YamlScalarNode)read[$"k{i}"];
            Assert.Equal(values[i], node.Value);
        }
        Assert.NotEqual(ScalarStyle.Plain, ((YamlScalarNode)read["k0"]).Style);
        Assert.Equal(ScalarStyle.Literal, ((YamlScalarNode)read["k14"]).Style);
    }

    [Fact]
    public void Numbers_and_booleans_are_plain_literals_and_keys_keep_insertion_order()
    {
        var text = YamlText.Write(new YamlMap { { "zeta", 0 }, { "alpha", true }, { "mid", new YamlList { "a", "b" } }, { "skipped", (string?)null } });

        Assert.Equal("zeta: 0\nalpha: true\nmid:\n  - a\n  - b\n", text);
    }

    [Fact]
    public void Long_values_are_not_folded_onto_another_line()
    {
        var longValue = string.Join(" && ", Enumerable.Repeat("github.event_name == 'push'", 10));

        var text = YamlText.Write(new YamlMap { { "if", longValue } });

        Assert.Equal($"if: {longValue}\n", text);
    }
}
