using BuildGraph;

namespace BuildGraph.Tests;

public sealed class TablesTests
{
    static readonly string[][] Fleet =
    [
        ["Instance", "Deploy", "Rollback", "Serves"],
        ["i-0abc", "deployed", "switched back", "1.0.0"],
        ["i-0def0123", "FAILED: engine | gone", "-", "unchanged"],
    ];

    [Fact]
    public void Text_columns_are_as_wide_as_their_widest_cell_without_trailing_blanks()
    {
        Assert.Equal(
            [
                "Instance    Deploy                 Rollback       Serves",
                "i-0abc      deployed               switched back  1.0.0",
                "i-0def0123  FAILED: engine | gone  -              unchanged",
            ],
            Tables.Text(Fleet));
    }

    [Fact]
    public void A_short_row_is_padded_with_empty_cells()
    {
        Assert.Equal(["a    b", "ccc"], Tables.Text([["a", "b"], ["ccc"]]));
        Assert.Empty(Tables.Text([]));
    }

    [Fact]
    public void Markdown_escapes_pipes_and_joins_lines()
    {
        Assert.Equal(
            "| Instance | Deploy | Rollback | Serves |\n" +
            "|---|---|---|---|\n" +
            "| i-0abc | deployed | switched back | 1.0.0 |\n" +
            "| i-0def0123 | FAILED: engine \\| gone | - | unchanged |\n",
            Tables.Markdown(Fleet));
        Assert.Equal("| a |\n|---|\n| two lines |\n", Tables.Markdown([["a"], ["two\nlines"]]));
    }
}
