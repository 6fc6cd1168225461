using Delivery.Hosts.Scripts;

namespace Delivery.Hosts;

/// <summary>Somewhere a rendered host script runs: this machine (<see cref="LocalHost"/>) or an EC2 instance via SSM.</summary>
public interface IDeployHost
{
    /// <summary>Shown in messages, e.g. "local" or an instance id.</summary>
    string Name { get; }

    /// <summary>Runs the script with bash; <paramref name="onOutput"/> receives each output line as it arrives
    /// (where the transport allows). A non-zero exit is returned, not thrown.</summary>
    Task<HostResult> RunAsync(string script, Action<string>? onOutput = null, CancellationToken cancellationToken = default);
}

/// <summary>What a host script printed and how it ended.</summary>
public sealed record HostResult(int ExitCode, IReadOnlyList<string> Lines)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The one-line reason the script gave when it failed on purpose, if any.</summary>
    public string? Error =>
        Lines.LastOrDefault(l => l.StartsWith(ScriptLibrary.ErrorMarker, StringComparison.Ordinal))?[ScriptLibrary.ErrorMarker.Length..];

    /// <summary>Machine-readable lines (JSON objects) the script emitted.</summary>
    public IEnumerable<string> Data =>
        Lines.Where(l => l.StartsWith(ScriptLibrary.DataMarker, StringComparison.Ordinal)).Select(l => l[ScriptLibrary.DataMarker.Length..]);

    public string Tail(int count = 5) =>
        string.Join(" | ", Lines
            .Where(l => !l.StartsWith(ScriptLibrary.DataMarker, StringComparison.Ordinal) && l.Trim().Length > 0)
            .Select(l => l.StartsWith(ScriptLibrary.Marker, StringComparison.Ordinal) ? l[ScriptLibrary.Marker.Length..] : l.Trim())
            .TakeLast(count));
}
