using System.Text.Json;
using Delivery.Hosts.Scripts;

namespace Delivery.Aws;

/// <summary>
/// The text SSM runs on an instance for one host script. The agent runs the commands with sh, and host scripts need
/// bash and must not read their own text from stdin: so the script goes to a private temporary file through a quoted
/// here-document (no expansion) and runs with bash, exactly as the local host runs it (HostCommand.sh).
/// <para>
/// SSM keeps only the first 24,000 characters of stdout, so the wrapper never lets the script's own output push the
/// summary out: a long output is shortened to its last lines and every data line (the full log stays on the
/// instance, and in S3 or CloudWatch when the command sets them), and the last line is always the summary,
/// <c>webapp-deploy: summary: {…}</c>.
/// </para>
/// </summary>
public static class HostCommand
{
    public const string SummaryMarker = ScriptLibrary.Marker + "summary: ";

    /// <summary>Output up to this size is passed on whole; longer output is shortened.</summary>
    public const int WholeOutputBytes = 16_000;

    public static string Wrap(string script)
    {
        var end = $"DELIVERY_SCRIPT_{Guid.NewGuid():N}";
        var body = script.EndsWith('\n') ? script : script + "\n";
        var functions = WrapperFunctions.Value;
        var main = $$"""
            f=$(mktemp "${TMPDIR:-/tmp}/webapp-deploy-XXXXXXXX") || exit 1
            trap 'rm -f "$f"' EXIT
            cat > "$f" <<'{{end}}'
            {{body}}{{end}}
            run_host_script "$f"

            """;
        return new ScriptValues().Add("whole_output_bytes", WholeOutputBytes).Render(functions) + functions + main;
    }

    /// <summary>HostCommand.sh, embedded in this assembly, without the editor's shell directive and its comments.</summary>
    static readonly Lazy<string> WrapperFunctions = new(() =>
    {
        using var stream = typeof(HostCommand).Assembly.GetManifestResourceStream("HostCommand.sh")!;
        using var reader = new StreamReader(stream);
        return ShellFiles.WithoutComments(reader.ReadToEnd().ReplaceLineEndings("\n").Replace("# shellcheck shell=sh\n", "")).TrimEnd('\n') + "\n";
    });

    /// <summary>The lines of one output stream as GetCommandInvocation returns it (no trailing empty line).</summary>
    internal static IEnumerable<string> OutputLines(string text)
    {
        if (text.Length == 0) return [];
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}

/// <summary>The last line an instance printed: how its script ended, in a form that survives SSM's output limits.</summary>
public sealed record HostSummary(string Instance, int Exit, string Error, string Log)
{
    public static HostSummary? Find(IEnumerable<string> lines)
    {
        var line = lines.LastOrDefault(l => l.StartsWith(HostCommand.SummaryMarker, StringComparison.Ordinal));
        if (line is null) return null;
        try
        {
            using var json = JsonDocument.Parse(line[HostCommand.SummaryMarker.Length..]);
            var r = json.RootElement;
            string S(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            return new HostSummary(S("instance"), r.TryGetProperty("exit", out var e) && e.TryGetInt32(out var x) ? x : -1, S("error"), S("log"));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
