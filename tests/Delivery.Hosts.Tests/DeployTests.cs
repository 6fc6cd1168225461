using System.Text.Json;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

[Collection(HostCollection.Name)]
public sealed class DeployTests(HostFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Deploying_v1_then_v2_serves_each_records_both_and_reports_status()
    {
        await using var bed = fixture.NewBed();

        var first = await bed.Deploy(bed.Staging, fixture.V1);
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Equal("1.0.0", first.Release.Version);
        Assert.Equal(fixture.V1.Digest, first.Release.Digest);
        Assert.Null(first.PreviousVersion);

        // v2 goes out without valid provenance (--allow-unattested): the record says so, and why.
        var second = await bed.Deploy(bed.Staging, fixture.V2, new DeployOptions { DeployedBy = "tester", Unattested = "no attestation" });
        Assert.Equal("2.0.0", await bed.Version(bed.Staging));
        Assert.Equal("1.0.0", second.PreviousVersion);
        Assert.Contains("switch", second.Timings.Keys);
        Assert.Contains("health", second.Timings.Keys);

        var history = bed.History(bed.Staging).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["1.0.0", "2.0.0"], history.Select(h => h.GetProperty("version").GetString()));
        Assert.All(history, h => Assert.Equal("deploy", h.GetProperty("action").GetString()));
        Assert.All(history, h => Assert.Equal("tester", h.GetProperty("deployed_by").GetString()));
        Assert.Equal(fixture.V2.ImageReference, history[1].GetProperty("image").GetString());
        Assert.Equal(fixture.V2.Commit, history[1].GetProperty("commit").GetString());
        Assert.False(history[0].TryGetProperty("unattested", out _));
        Assert.Equal("no attestation", history[1].GetProperty("unattested").GetString());
        Assert.Equal("no attestation", second.Release.Unattested);

        var status = await bed.Deployer.StatusAsync(bed.Staging);
        Assert.True(status.Deployed);
        Assert.Equal("2.0.0", status.Version);
        Assert.Equal(fixture.V2.Digest, status.Digest);
        Assert.Equal(fixture.V2.Commit, status.Commit);
        Assert.Equal(200, status.ContainerHealth);
        Assert.Equal(200, status.PublicHealth);
        Assert.Equal("1.0.0", status.PreviousVersion);
        Assert.Equal(["1.0.0"], status.Retained.Select(r => r.Version));
        Assert.Null(status.LockHolder);

        // The serving container runs locked down, as the image's own non-root user, bound to loopback only.
        var inspect = await Tools.RunChecked(bed.Docker, "inspect", "--format",
            "{{.Config.User}}|{{.HostConfig.ReadonlyRootfs}}|{{.HostConfig.CapDrop}}|{{.HostConfig.SecurityOpt}}|{{.HostConfig.RestartPolicy.Name}}|{{.HostConfig.Memory}}|{{.HostConfig.NanoCpus}}|{{range $p, $b := .HostConfig.PortBindings}}{{(index $b 0).HostIp}}{{end}}|{{index .Config.Labels \"webapp.environment\"}}|{{range .Config.Env}}{{.}} {{end}}",
            status.Container!);
        var fields = inspect.Trim().Split('|');
        Assert.Equal("65534:65534", fields[0]);
        Assert.Equal("true", fields[1]);
        Assert.Equal("[ALL]", fields[2]);
        Assert.Equal("[no-new-privileges]", fields[3]);
        Assert.Equal("unless-stopped", fields[4]);
        Assert.Equal((64 * 1024 * 1024).ToString(), fields[5]);
        Assert.Equal("500000000", fields[6]);
        Assert.Equal("127.0.0.1", fields[7]);
        Assert.Equal("staging", fields[8]);
        Assert.Contains("ASPNETCORE_ENVIRONMENT=Staging", fields[9]);

        // The proxy's file on disk names the active release, so a restarted proxy serves it too.
        var fragment = File.ReadAllText(Path.Combine(bed.StateRoot, "proxy", "conf.d", $"{bed.Settings.AppName}-staging.cfg"));
        Assert.Contains("serves 2.0.0", fragment);
        Assert.Contains($"bind 127.0.0.1:{bed.Staging.PublicPort}", fragment);
        Assert.Contains($"127.0.0.1:{status.PrivatePort}\n", fragment.Replace(" disabled\n", " disabled;"));
        output.WriteLine(bed.Dump());
        output.WriteLine(fragment);
    }
}
