namespace Delivery.Hosts;

/// <summary>One environment's part of the Status report: a table row per host and the warnings (a held lock, hosts
/// drifting from the record). The record's line is <see cref="StatusTable.RecordLine"/>.</summary>
public sealed record StatusReport(IReadOnlyList<string[]> Rows, IReadOnlyList<string> Warnings);

/// <summary>What Status shows for a <see cref="SiteStatus"/>. Whether a digest is attested needs the registry, so the
/// caller answers it (<c>attestationOf(repository@digest)</c>: "yes", "NO: why", or "?").</summary>
public static class StatusTable
{
    public static readonly string[] Header = ["Host", "Environment", "Port", "Version", "Digest", "Attested", "Commit", "Since", "Health", "Rollback to", "Record"];

    public static async Task<StatusReport> ReportAsync(SiteStatus site, Func<string?, Task<string>> attestationOf)
    {
        var environment = site.Environment;
        var rows = new List<string[]>();
        var warnings = new List<string>();
        foreach (var host in site.Hosts)
        {
            var s = host.Status;
            rows.Add(s is { Deployed: true }
                ? [host.Host, environment.Name, $":{environment.PublicPort}", s.Version ?? "?", Short(s.Digest), await attestationOf(s.Image), Short(s.Commit, 7), s.Since ?? "?",
                   Health(s), host.RollbackTargets.Count > 0 ? string.Join(", ", host.RollbackTargets) : "-", Drift(site, host)]
                : [host.Host, environment.Name, $":{environment.PublicPort}", host.Problem ?? "(not deployed)", "", "", "", "", "", "", Drift(site, host)]);
            if (s?.LockHolder is not null) warnings.Add($"{environment.Name} on {host.Host} is locked by {s.LockHolder}");
        }
        if (site.Drifting.ToList() is { Count: > 0 } drifting)
            warnings.Add($"{environment.Name}: {string.Join(", ", drifting)} run(s) something else than the release record");
        return new StatusReport(rows, warnings);
    }

    /// <summary>Where the record is kept and what it says, or null without a record (or one that does not say where).</summary>
    public static string? RecordLine(SiteStatus site) =>
        site.Record is { Where: { } where } record
            ? $"{site.Environment.Name}: {where} v{record.Version}: {record.Image.Version} ({Short(record.Image.Digest)}) by {record.DeployedBy} at {record.Time} on {string.Join(", ", record.Hosts)}" +
              (record.Unattested is { } why ? $", deployed UNATTESTED (--allow-unattested: {why})" : "")
            : null;

    public static string Health(EnvironmentStatus status) =>
        status.Healthy ? "healthy" : $"UNHEALTHY (container {status.ContainerHealth}, public {status.PublicHealth})";

    /// <summary>"-" without a record, else whether the host serves the recorded digest.</summary>
    public static string Drift(SiteStatus site, HostStatus host) =>
        site.Record is null ? "-" : host.Drifts(site.Record) ? "DRIFT" : "matches";

    /// <summary>The first <paramref name="length"/> characters (a digest's "sha256:" and 12 hex digits by default).</summary>
    public static string Short(string? value, int length = 19) =>
        value is null ? "" : value.Length > length ? value[..length] : value;
}
