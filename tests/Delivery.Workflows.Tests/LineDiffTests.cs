namespace Delivery.Workflows.Tests;

public class LineDiffTests
{
    [Fact]
    public void Identical_lines_give_no_diff() => Assert.Equal("", LineDiff.Unified("a\nb\n", "a\nb\n"));

    [Fact]
    public void A_replaced_line_shows_with_two_lines_of_context()
    {
        var diff = LineDiff.Unified("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nfour\n5\n6\n7\n", "old", "new");

        Assert.Equal("--- old\n+++ new\n@@ -2,5 +2,5 @@\n 2\n 3\n-4\n+four\n 5\n 6\n", diff);
    }

    [Fact]
    public void Distant_changes_make_separate_hunks_and_close_ones_merge()
    {
        var old = string.Join("\n", Enumerable.Range(1, 20)) + "\n";
        var updated = old.Replace("\n3\n", "\nthree\n").Replace("\n5\n", "\nfive\n").Replace("\n18\n", "\n");

        var diff = LineDiff.Unified(old, updated, "old", "new");

        Assert.Equal(
            "--- old\n+++ new\n"
            + "@@ -1,7 +1,7 @@\n 1\n 2\n-3\n+three\n 4\n-5\n+five\n 6\n 7\n"
            + "@@ -16,5 +16,4 @@\n 16\n 17\n-18\n 19\n 20\n",
            diff);
    }

    [Fact]
    public void Added_lines_at_the_end_are_shown_after_their_context()
    {
        var diff = LineDiff.Unified("a\nb\n", "a\nb\nc\n", "old", "new");

        Assert.Equal("--- old\n+++ new\n@@ -1,2 +1,3 @@\n a\n b\n+c\n", diff);
        Assert.Equal(1, LineDiff.ChangedLineCount("a\nb\n", "a\nb\nc\n"));
    }
}
