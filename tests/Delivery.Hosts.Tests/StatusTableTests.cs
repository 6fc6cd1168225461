using Delivery.Hosts.Sites;

namespace Delivery.Hosts.Tests;

public sealed class StatusTableTests
{
    static readonly string V1 = "sha256:" + new string('1', 64);
    static readonly string V2 = "sha256:" + new string('2', 64);
    static readonly DeployEnvironment Production = DeployEnvironment.Production;

    static EnvironmentStatus Serving(string digest, string version, int containerHealth = 200, int publicHealth = 200, string? lockHolder = null) =>
        new("production", true, version, digest, $"reg:5000/webapp@{digest}", "447a3fd9c0ffee", "2026-12-06T20:00:00Z", "webapp-production-1", 49152,
            containerHealth, publicHealth, null,
            [new RetainedRelease("1.0.0", V1, $"reg:5000/webapp@{V1}", "aaaaaaa"), new RetainedRelease("1.1.0", V2, $"reg:5000/webapp@{V2}", "bbbbbbb")],
            lockHolder);

    static readonly RecordedRelease Record = new(new PinnedImage("1.1.0", "reg:5000/webapp", V2), "ci", "2026-12-06T20:00:00Z", ["h1", "h2"], 7, "Parameter Store /webapp/production/release");

    static Task<string> Attested(string? image) => Task.FromResult(image is null ? "?" : $"yes ({image[^4..]})");

    [Fact]
    public async Task A_healthy_host_that_matches_the_record_shows_its_release_and_rollback_targets()
    {
        var report = await StatusTable.ReportAsync(new SiteStatus(Production, Record, [new HostStatus("h1", Serving(V2, "1.1.0"), null)]), Attested);

        Assert.Equal(["h1", "production", ":8080", "1.1.0", "sha256:222222222222", "yes (2222)", "447a3fd", "2026-12-06T20:00:00Z", "healthy", "1.0.0", "matches"], report.Rows.Single());
        Assert.Equal("production: Parameter Store /webapp/production/release v7: 1.1.0 (sha256:222222222222) by ci at 2026-12-06T20:00:00Z on h1, h2",
            StatusTable.RecordLine(new SiteStatus(Production, Record, [])));
        Assert.Empty(report.Warnings);
    }

    [Fact]
    public async Task An_unhealthy_host_shows_both_health_codes_and_a_held_lock_is_a_warning()
    {
        var report = await StatusTable.ReportAsync(new SiteStatus(Production, null, [new HostStatus("h1", Serving(V2, "1.1.0", 200, 503, "deploy by ci"), null)]), Attested);

        var row = report.Rows.Single();
        Assert.Equal(("UNHEALTHY (container 200, public 503)", "-"), (row[8], row[10]));
        Assert.Null(StatusTable.RecordLine(new SiteStatus(Production, null, [])));
        Assert.Equal(["production on h1 is locked by deploy by ci"], report.Warnings);
    }

    [Fact]
    public async Task A_host_without_the_environment_or_unreachable_shows_why_and_drifts_from_a_record()
    {
        var notDeployed = new EnvironmentStatus("production", false, null, null, null, null, null, null, null, 0, 0, null, [], null);
        var site = new SiteStatus(Production, Record, [new HostStatus("h1", notDeployed, null), new HostStatus("h2", null, "unreachable: timed out")]);

        var report = await StatusTable.ReportAsync(site, _ => throw new InvalidOperationException("no attestation lookup for a host that serves nothing"));

        Assert.Equal(["h1", "production", ":8080", "(not deployed)", "", "", "", "", "", "", "DRIFT"], report.Rows[0]);
        Assert.Equal(["h2", "production", ":8080", "unreachable: timed out", "", "", "", "", "", "", "DRIFT"], report.Rows[1]);
        Assert.Equal(["production: h1, h2 run(s) something else than the release record"], report.Warnings);
    }

    [Fact]
    public async Task A_host_serving_another_digest_than_the_record_drifts_and_an_unattested_record_says_so()
    {
        var record = Record with { Unattested = "no attestation" };
        var site = new SiteStatus(Production, record, [new HostStatus("h1", Serving(V2, "1.1.0"), null), new HostStatus("h2", Serving(V1, "1.0.0"), null)]);

        var report = await StatusTable.ReportAsync(site, Attested);

        Assert.Equal(["matches", "DRIFT"], report.Rows.Select(r => r[10]));
        Assert.Equal(["1.0.0", "1.1.0"], report.Rows.Select(r => r[9]));
        Assert.EndsWith(", deployed UNATTESTED (--allow-unattested: no attestation)", StatusTable.RecordLine(site));
        Assert.Equal(["production: h2 run(s) something else than the release record"], report.Warnings);
    }
}
