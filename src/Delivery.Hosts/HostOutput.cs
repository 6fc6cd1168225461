using System.Text.Json;
using Delivery.Core;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts;

/// <summary>
/// The one reader of what a host script printed: its data lines, by <see cref="HostDataKind"/>, turned into status,
/// history, evidence, outcome and bake. Every operation on every site reads host output through here.
/// </summary>
public sealed class HostOutput
{
    readonly IReadOnlyList<(HostDataKind Kind, JsonElement Data)> data;

    public HostOutput(HostResult result)
    {
        Result = result;
        data = result.Data.Select(Parse).Where(d => d.Kind is not null).Select(d => (d.Kind!.Value, d.Data)).ToList();
    }

    public HostResult Result { get; }

    IEnumerable<JsonElement> Of(HostDataKind kind) => data.Where(d => d.Kind == kind).Select(d => d.Data);

    /// <summary>The bake's verdict, when the script baked a release.</summary>
    public BakeReport? Bake => Of(HostDataKind.Bake).Select(BakeReport.Parse).LastOrDefault();

    /// <summary>The release record a deploy or rollback wrote.</summary>
    public ReleaseRecord? Release => Of(HostDataKind.Release).Select(ReleaseRecord.Parse).LastOrDefault();

    /// <summary>When a deploy's release took the traffic (also when its bake later rolled it back).</summary>
    public string? SwitchedAt => Of(HostDataKind.Release).Where(d => Text(d, "action") == "deploy").Select(d => Text(d, "time")).FirstOrDefault();

    /// <summary>What served before the switch.</summary>
    public string? PreviousVersion => Of(HostDataKind.Switched).Select(d => Empty(Text(d, "previous"))).LastOrDefault();

    /// <summary>Time per phase, summed when a phase ran more than once.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Timings
    {
        get
        {
            var timings = new Dictionary<string, TimeSpan>();
            foreach (var t in Of(HostDataKind.Timing))
            {
                var phase = Text(t, "phase") ?? "?";
                var span = TimeSpan.FromMilliseconds(t.GetProperty("ms").GetInt64());
                timings[phase] = timings.TryGetValue(phase, out var before) ? before + span : span;
            }
            return timings;
        }
    }

    /// <summary>The environment's maintenance mode, when the script reported it.</summary>
    public MaintenanceStatus? Maintenance(DeployEnvironment environment) => Of(HostDataKind.Maintenance)
        .Select(d => new MaintenanceStatus(environment.Name, d.GetProperty("on").GetBoolean(), Text(d, "since"), Text(d, "by"),
            d.TryGetProperty("retry_after", out var r) && r.TryGetInt32(out var seconds) ? seconds : null, Text(d, "message")))
        .LastOrDefault();

    /// <summary>What the release phase did, when the script ran one.</summary>
    public ReleasePhaseResult? ReleasePhase => Of(HostDataKind.ReleasePhase)
        .Select(d => new ReleasePhaseResult(d.GetProperty("exit").GetInt32(), TimeSpan.FromMilliseconds(d.GetProperty("ms").GetInt64()),
            d.GetProperty("timed_out").GetBoolean()))
        .LastOrDefault();

    /// <summary>What a rollback-target check found, per retained release.</summary>
    public IReadOnlyList<RollbackTargetCheck> RollbackChecks => Of(HostDataKind.RollbackCheck)
        .Select(d => new RollbackTargetCheck(Text(d, "version")!, Text(d, "digest")!, Text(d, "image")!, Text(d, "result")!, Text(d, "reason") ?? ""))
        .ToList();

    /// <summary>The ConfigureHost playbook runs, in order.</summary>
    public IReadOnlyList<PlaybookRun> Configured => Of(HostDataKind.Configured)
        .Select(d => new PlaybookRun(d.GetProperty("run").GetInt32(), d.GetProperty("changed").GetInt32(),
            TimeSpan.FromMilliseconds(d.GetProperty("ms").GetInt64()), Text(d, "system") ?? "?"))
        .ToList();

    public IReadOnlyList<ReleaseRecord> History => Of(HostDataKind.History).Select(d => ReleaseRecord.Parse(d.GetProperty("record"))).ToList();

    public EnvironmentStatus Status(DeployEnvironment environment)
    {
        var current = Of(HostDataKind.Current).FirstOrDefault();
        var retained = Of(HostDataKind.Retained)
            .Select(d => new RetainedRelease(Text(d, "version")!, Text(d, "digest")!, Text(d, "image")!, Text(d, "commit") ?? ""))
            .ToList();
        var holder = Empty(Of(HostDataKind.Lock).Select(d => Text(d, "holder")).FirstOrDefault());
        var deployed = current.ValueKind == JsonValueKind.Object && current.GetProperty("deployed").GetBoolean();
        if (!deployed)
            return new EnvironmentStatus(environment.Name, false, null, null, null, null, null, null, null, 0, 0, null, retained, holder);
        return new EnvironmentStatus(
            environment.Name, true,
            Text(current, "version"), Text(current, "digest"), Text(current, "image"), Empty(Text(current, "commit")),
            Text(current, "since"), Text(current, "container"),
            int.TryParse(Text(current, "port"), out var port) ? port : null,
            int.TryParse(Text(current, "health"), out var health) ? health : 0,
            int.TryParse(Text(current, "public_health"), out var pub) ? pub : 0,
            Empty(Text(current, "previous")),
            retained, holder);
    }

    /// <summary>Which digest <paramref name="environment"/> runs, and whether <paramref name="digest"/> may be promoted from it.</summary>
    public PromotionEvidence Evidence(DeployEnvironment environment, string digest)
    {
        var status = Status(environment);
        var last = History.LastOrDefault(r => r.Digest == digest);
        return new PromotionEvidence(environment.Name, status.Digest, status.Version, PromotionRules.Verified(last), last);
    }

    /// <summary>The container's log lines a Logs script printed.</summary>
    public IReadOnlyList<string> LogLines => Result.Lines
        .Where(l => l.StartsWith(ScriptLibrary.LogMarker, StringComparison.Ordinal))
        .Select(l => l[ScriptLibrary.LogMarker.Length..]).ToList();

    static (HostDataKind? Kind, JsonElement Data) Parse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement.Clone();
            var wire = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kind", out var k) ? k.GetString() : null;
            return (HostDataKinds.Parse(wire), root);
        }
        catch (JsonException ex)
        {
            throw new DeliveryException($"The host printed a malformed data line: {line}", ex);
        }
    }

    static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>The promotion rules, written once for every site: a release is promoted only from an environment whose
/// history shows it passed the health gate there, and never when its bake there failed.</summary>
public static class PromotionRules
{
    public const string BakeFailedAction = "bake-failed";

    /// <summary>True when the last history line of a digest says it took traffic and was not rolled back by its bake.</summary>
    public static bool Verified(ReleaseRecord? last) => last is not null && last.Action != BakeFailedAction;
}
