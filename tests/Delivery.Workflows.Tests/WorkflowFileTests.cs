using System.Text;

namespace Delivery.Workflows.Tests;

public sealed class WorkflowFileTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("delivery-workflows-file-").FullName;
    readonly string path;
    readonly string generated = WorkflowGenerator.Generate(new WorkflowDefinition { Name = "delivery" });

    public WorkflowFileTests() => path = Path.Combine(root, ".github", "workflows", "delivery.yml");

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_missing_file_is_reported_with_every_line_as_an_addition()
    {
        var check = WorkflowFile.Check(path, generated);

        Assert.Equal(WorkflowFileState.Missing, check.State);
        Assert.False(check.IsUpToDate);
        var lineCount = generated.Count(c => c == '\n');
        Assert.Equal(lineCount, check.ChangedLines);
        Assert.Contains($"@@ -0,0 +1,{lineCount} @@\n+# GENERATED FILE", check.Diff);
    }

    [Fact]
    public void Write_creates_the_folders_and_an_LF_file_without_a_byte_order_mark()
    {
        var before = WorkflowFile.Write(path, generated.Replace("\n", "\r\n"));

        Assert.Equal(WorkflowFileState.Missing, before.State);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(generated, Encoding.UTF8.GetString(bytes));
        Assert.NotEqual(0xEF, bytes[0]);
        Assert.Equal(WorkflowFileState.UpToDate, WorkflowFile.Check(path, generated).State);
    }

    [Fact]
    public void A_file_with_CRLF_line_endings_and_the_same_lines_is_up_to_date()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, generated.Replace("\n", "\r\n"));

        var check = WorkflowFile.Check(path, generated);

        Assert.Equal(WorkflowFileState.UpToDate, check.State);
        Assert.Equal("", check.Diff);
        Assert.EndsWith("is up to date.", check.Summary);
    }

    [Fact]
    public void A_changed_file_is_reported_with_a_diff_of_the_changed_lines()
    {
        WorkflowFile.Write(path, generated);
        var onDisk = generated.Replace("timeout-minutes: 45", "timeout-minutes: 90").Replace("      - name: Set up .NET\n", "");
        File.WriteAllText(path, onDisk.Replace("\n", "\r\n"));
        var lines = generated.Split('\n');
        var timeoutLine = Array.IndexOf(lines, "    timeout-minutes: 45") + 1;
        var changed = 2 + lines.Count(l => l == "      - name: Set up .NET"); // the timeout in and out, and each job's "Set up .NET" step put back

        var check = WorkflowFile.Check(path, generated);

        Assert.Equal(WorkflowFileState.Changed, check.State);
        Assert.Equal(changed, check.ChangedLines);
        Assert.StartsWith($"--- {path} (on disk)\n+++ {path} (generated)\n@@ -{timeoutLine - 2},5 +{timeoutLine - 2},5 @@\n", check.Diff);
        Assert.Contains("\n-    timeout-minutes: 90\n+    timeout-minutes: 45\n", check.Diff);
        Assert.Contains("\n+      - name: Set up .NET\n", check.Diff);
        Assert.Equal($"{path} differs from its declaration in {changed} line(s).", check.Summary);
    }

    [Fact]
    public void Only_a_missing_final_newline_still_counts_as_a_change()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, generated.TrimEnd('\n'));

        var check = WorkflowFile.Check(path, generated);

        Assert.Equal(WorkflowFileState.Changed, check.State);
        Assert.Contains("newline at the end", check.Diff);
    }

    [Fact]
    public void Write_leaves_an_up_to_date_file_untouched_and_rewrites_a_changed_one()
    {
        WorkflowFile.Write(path, generated);
        var longAgo = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, longAgo);

        Assert.Equal(WorkflowFileState.UpToDate, WorkflowFile.Write(path, generated).State);
        Assert.Equal(longAgo, File.GetLastWriteTimeUtc(path));

        var changed = generated.Replace("name: delivery", "name: renamed");
        Assert.Equal(WorkflowFileState.Changed, WorkflowFile.Write(path, changed).State);
        Assert.Equal(changed, File.ReadAllText(path));
    }

    [Fact]
    public void A_stale_file_becomes_a_one_line_failure_naming_the_fix()
    {
        var check = WorkflowFile.Check(path, generated);

        var message = check.FailureMessage();

        Assert.Equal($"{path} does not exist yet. Run './build.sh GenerateWorkflow' and commit the result.", message);
    }
}
