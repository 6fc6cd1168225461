namespace TestSupport;

/// <summary>Whether a process a test saw start still runs, from /proc/&lt;pid&gt;/stat. A zombie (killed, not yet reaped)
/// has stopped. A process reaped between any two looks has no stat left: opening or reading it fails, which is also
/// "stopped" (a look at /proc/&lt;pid&gt; first, then a read of its stat, raced the reaper).</summary>
public static class ProcessState
{
    public static bool Running(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; } // gone, or ESRCH once opened
        // pid (comm) state …: comm may hold spaces and parentheses, so the state follows the last ") ".
        return stat[(stat.LastIndexOf(") ", StringComparison.Ordinal) + 2)] != 'Z';
    }
}
