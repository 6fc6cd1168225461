using System.Diagnostics;
using System.Text.Json;
using Delivery.Core;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts;

/// <summary>
/// Runs the rendered host scripts on a host and turns their output into typed results. Progress lines go to
/// <c>log</c> as they arrive; a failed script becomes a <see cref="DeliveryException"/> with the script's own one-line
/// reason.
/// </summary>
public sealed class Deployer(IDeployHost host, HostSettings settings, Action<string>? log = null)
{
    public IDeployHost Host => host;
    public HostSettings Settings => settings;

    public async Task<DeployOutcome> DeployAsync(DeployEnvironment environment, Release release, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        var script = HostScripts.Deploy(settings, environment, release, options ?? new DeployOptions());
        var what = $"Deploy of {release.Version} to {environment.Name}";
        var watch = Stopwatch.StartNew();
        var result = await host.RunAsync(script, Show, cancellationToken);
        if (!result.Succeeded && BakeOf(result) is { Verdict: BakeVerdict.Fail } failed)
        {
            var data = result.Data.Select(Json).ToList();
            var switchedAt = data.Where(d => Kind(d) == "release" && Str(d, "action") == "deploy").Select(d => Str(d, "time")).FirstOrDefault();
            var switchMs = data.Where(d => Kind(d) == "timing" && Str(d, "phase") == "switch").Select(d => d.GetProperty("ms").GetInt64()).FirstOrDefault(-1);
            throw new BakeFailedException($"{what} failed on {host.Name}: {result.Error ?? failed.Reason}", failed,
                switchedAt, switchMs < 0 ? null : TimeSpan.FromMilliseconds(switchMs));
        }
        return Outcome(Checked(result, what), what, watch.Elapsed);
    }

    /// <summary>Returns to the previous release, or to <paramref name="toVersion"/> when given (it must still be retained on the host).</summary>
    public async Task<DeployOutcome> RollbackAsync(DeployEnvironment environment, string? toVersion = null, DeployOptions? options = null, CancellationToken cancellationToken = default)
    {
        var script = HostScripts.Rollback(settings, environment, toVersion, options ?? new DeployOptions());
        return await RunReleaseScriptAsync(script, $"Rollback of {environment.Name}", cancellationToken);
    }

    public async Task<EnvironmentStatus> StatusAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(HostScripts.Status(settings, environment), $"Status of {environment.Name}", quiet: true, cancellationToken);
        return ParseStatus(environment, result.Data.Select(Json));
    }

    public async Task<IReadOnlyList<ReleaseRecord>> HistoryAsync(DeployEnvironment environment, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(HostScripts.History(settings, environment), $"History of {environment.Name}", quiet: true, cancellationToken);
        return ParseHistory(result.Data.Select(Json));
    }

    /// <summary>Which digest <paramref name="source"/> runs, and whether <paramref name="digest"/> ever passed its health gate.</summary>
    public async Task<PromotionEvidence> PromotionEvidenceAsync(DeployEnvironment source, string digest, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(HostScripts.Evidence(settings, source), $"Promotion check on {source.Name}", quiet: true, cancellationToken);
        var data = result.Data.Select(Json).ToList();
        var status = ParseStatus(source, data);
        var last = ParseHistory(data).LastOrDefault(r => r.Digest == digest);
        // A release its bake rolled back passed the health gate but is not verified.
        return new PromotionEvidence(source.Name, status.Digest, status.Version, last is not null && last.Action != "bake-failed", last);
    }

    public async Task<IReadOnlyList<string>> LogsAsync(DeployEnvironment environment, int lines = 100, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(HostScripts.Logs(settings, environment, lines), $"Logs of {environment.Name}", quiet: true, cancellationToken);
        return result.Lines.Where(l => l.StartsWith(ScriptLibrary.LogMarker, StringComparison.Ordinal))
            .Select(l => l[ScriptLibrary.LogMarker.Length..]).ToList();
    }

    public Task TeardownAsync(DeployEnvironment environment, DeployOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(HostScripts.Teardown(settings, environment, options ?? new DeployOptions()), $"Teardown of {environment.Name}", quiet: false, cancellationToken);

    /// <summary>Removes every environment of this app from the host and stops the proxy.</summary>
    public Task TeardownAllAsync(DeployOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(HostScripts.TeardownAll(settings, DeployEnvironment.All, options ?? new DeployOptions()), "Teardown of all environments", quiet: false, cancellationToken);

    public Task ForceUnlockAsync(DeployEnvironment environment, DeployOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(HostScripts.ForceUnlock(settings, environment, options ?? new DeployOptions()), $"Force-unlock of {environment.Name}", quiet: false, cancellationToken);

    /// <summary>Starts the proxy from its on-disk configuration if it is not running (after a reboot, for example).</summary>
    public Task EnsureProxyAsync(CancellationToken cancellationToken = default) =>
        RunAsync(HostScripts.EnsureProxy(settings), "Proxy start", quiet: false, cancellationToken);

    async Task<DeployOutcome> RunReleaseScriptAsync(string script, string what, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var result = await RunAsync(script, what, quiet: false, cancellationToken);
        return Outcome(result, what, watch.Elapsed);
    }

    static BakeReport? BakeOf(HostResult result) =>
        result.Data.Select(Json).Where(d => Kind(d) == "bake").Select(BakeReport.Parse).LastOrDefault();

    DeployOutcome Outcome(HostResult result, string what, TimeSpan total)
    {
        var data = result.Data.Select(Json).ToList();
        var release = data.Where(d => Kind(d) == "release").Select(ReleaseRecord.Parse).LastOrDefault()
            ?? throw new DeliveryException($"{what} on {host.Name} finished without recording a release: {result.Tail()}");
        var timings = new Dictionary<string, TimeSpan>();
        foreach (var t in data.Where(d => Kind(d) == "timing"))
        {
            var phase = t.GetProperty("phase").GetString()!;
            var span = TimeSpan.FromMilliseconds(t.GetProperty("ms").GetInt64());
            timings[phase] = timings.TryGetValue(phase, out var before) ? before + span : span;
        }
        var previous = data.Where(d => Kind(d) == "switched").Select(d => Empty(Str(d, "previous"))).LastOrDefault();
        return new DeployOutcome(release, previous, timings, total, result.Lines) { Bake = BakeOf(result) ?? BakeReport.Off };
    }

    async Task<HostResult> RunAsync(string script, string what, bool quiet, CancellationToken cancellationToken) =>
        Checked(await host.RunAsync(script, quiet ? null : Show, cancellationToken), what);

    HostResult Checked(HostResult result, string what)
    {
        if (!result.Succeeded)
            throw new DeliveryException(result.Error is { } reason
                ? $"{what} failed on {host.Name}: {reason}"
                : $"{what} failed on {host.Name} (exit code {result.ExitCode}): {result.Tail()}");
        return result;
    }

    void Show(string line)
    {
        if (log is null || line.StartsWith(ScriptLibrary.DataMarker, StringComparison.Ordinal)) return;
        log(line.StartsWith(ScriptLibrary.Marker, StringComparison.Ordinal) ? line[ScriptLibrary.Marker.Length..] : line);
    }

    static JsonElement Json(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new DeliveryException($"The host printed a malformed data line: {line}", ex);
        }
    }

    static string? Kind(JsonElement e) => e.TryGetProperty("kind", out var k) ? k.GetString() : null;

    internal static EnvironmentStatus ParseStatus(DeployEnvironment environment, IEnumerable<JsonElement> data)
    {
        var list = data.ToList();
        var current = list.FirstOrDefault(d => Kind(d) == "current");
        var retained = list.Where(d => Kind(d) == "retained")
            .Select(d => new RetainedRelease(Str(d, "version")!, Str(d, "digest")!, Str(d, "image")!, Str(d, "commit") ?? ""))
            .ToList();
        var holder = list.Where(d => Kind(d) == "lock").Select(d => Str(d, "holder")).FirstOrDefault();
        var deployed = current.ValueKind == JsonValueKind.Object && current.GetProperty("deployed").GetBoolean();
        if (!deployed)
            return new EnvironmentStatus(environment.Name, false, null, null, null, null, null, null, null, 0, 0, null, retained, Empty(holder));
        return new EnvironmentStatus(
            environment.Name, true,
            Str(current, "version"), Str(current, "digest"), Str(current, "image"), Empty(Str(current, "commit")),
            Str(current, "since"), Str(current, "container"),
            int.TryParse(Str(current, "port"), out var port) ? port : null,
            int.TryParse(Str(current, "health"), out var health) ? health : 0,
            int.TryParse(Str(current, "public_health"), out var pub) ? pub : 0,
            Empty(Str(current, "previous")),
            retained, Empty(holder));
    }

    internal static IReadOnlyList<ReleaseRecord> ParseHistory(IEnumerable<JsonElement> data) =>
        data.Where(d => Kind(d) == "history").Select(d => ReleaseRecord.Parse(d.GetProperty("record"))).ToList();

    static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
