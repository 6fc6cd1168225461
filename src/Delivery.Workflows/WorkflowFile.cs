using System.Text;

namespace Delivery.Workflows;

public enum WorkflowFileState
{
    UpToDate,
    Changed,
    Missing,
}

/// <summary>How the workflow file on disk compares with freshly generated text.</summary>
public sealed record WorkflowFileCheck(string Path, WorkflowFileState State, string Diff, int ChangedLines)
{
    public bool IsUpToDate => State == WorkflowFileState.UpToDate;

    /// <summary>One line for the build log.</summary>
    public string Summary => State switch
    {
        WorkflowFileState.UpToDate => $"{Path} is up to date.",
        WorkflowFileState.Missing => $"{Path} does not exist yet.",
        _ => $"{Path} differs from its declaration in {ChangedLines} line(s).",
    };

    /// <summary>What CI says of a stale file; print <see cref="Diff"/> before it.</summary>
    public string FailureMessage(string regenerateCommand = "./build.sh GenerateWorkflow") =>
        $"{Summary} Run '{regenerateCommand}' and commit the result.";

}

/// <summary>Reads, compares and writes a generated workflow file. Line endings never count as a change.</summary>
public static class WorkflowFile
{
    static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static WorkflowFileCheck Check(string path, string expectedText)
    {
        var expected = NormaliseLineEndings(expectedText);
        if (!File.Exists(path))
            return new(path, WorkflowFileState.Missing, LineDiff.Unified("", expected, "(missing)", path), LineDiff.ChangedLineCount("", expected));

        var actual = NormaliseLineEndings(File.ReadAllText(path));
        if (actual == expected) return new(path, WorkflowFileState.UpToDate, "", 0);

        var diff = LineDiff.Unified(actual, expected, $"{path} (on disk)", $"{path} (generated)");
        if (diff.Length == 0)
            // Same lines, different final newline: still a change to write, and worth saying so.
            diff = $"--- {path} (on disk)\n+++ {path} (generated)\n(only the newline at the end of the file differs)\n";
        return new(path, WorkflowFileState.Changed, diff, Math.Max(1, LineDiff.ChangedLineCount(actual, expected)));
    }

    /// <summary>Writes the text with LF line endings (UTF-8, no BOM), creating folders as needed. An up-to-date
    /// file is left untouched.</summary>
    /// <returns>The state the file was in before writing.</returns>
    public static WorkflowFileCheck Write(string path, string text)
    {
        var before = Check(path, text);
        if (before.IsUpToDate) return before;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(path, NormaliseLineEndings(text), Utf8NoBom);
        return before;
    }

    public static string NormaliseLineEndings(string text) => text.Replace("\r\n", "\n");
}
