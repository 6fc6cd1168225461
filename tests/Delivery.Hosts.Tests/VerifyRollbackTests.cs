using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>Status --verify-rollback against the real engine and registry: each retained target is on the host and
/// starts, or the registry still has its digest; what is neither, or no longer starts, is named with its reason.</summary>
[Collection(HostStateCollection.Name)]
public sealed class VerifyRollbackTests(HostFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Each_retained_target_is_ok_missing_or_unhealthy_with_its_reason_and_nothing_serving_changes()
    {
        await using var bed = fixture.NewBed();
        var repo = $"hdt{fixture.RunId}/verify{Tools.NewRunId()}";
        var lost = await TestImages.BuildAndPushAsync(fixture.Registry.Address, repo, "11.0.0-lost", ImageBehaviour.Healthy);
        var gone = await TestImages.BuildAndPushAsync(fixture.Registry.Address, repo, "12.0.0-gone", ImageBehaviour.Healthy);
        var staging = bed.Staging with { KeepReleases = 4 };
        foreach (var release in new[] { lost, gone, fixture.V1, fixture.V2 }) await bed.Deploy(staging, release);

        // Both images leave the host (their stopped containers stay); the registry also loses the first one's manifest.
        foreach (var release in new[] { lost, gone })
            await Tools.RunChecked(bed.Docker, [.. bed.DockerHostArgs(), "image", "rm", "--force", release.ImageReference]);
        using (var http = new HttpClient())
            Assert.True((await http.DeleteAsync($"http://{fixture.Registry.Address}/v2/{repo}/manifests/{lost.Digest}")).IsSuccessStatusCode);

        var checks = (await bed.Deployer.VerifyRollbackAsync(staging)).Select(c => c.Check).ToList();
        foreach (var c in checks) output.WriteLine($"{c.Version} {c.Result}: {c.Reason}");

        Assert.Equal(["1.0.0", "12.0.0-gone", "11.0.0-lost"], checks.Select(c => c.Version));
        Assert.Equal("ok", checks[0].Result);
        Assert.StartsWith("on this host; passed /readyz on 127.0.0.1:", checks[0].Reason);
        Assert.Equal(("ok", $"not on this host; {fixture.Registry.Address} has {gone.Digest} (a rollback pulls it)"), (checks[1].Result, checks[1].Reason));
        Assert.Equal(("missing", $"neither on this host nor in {fixture.Registry.Address} (HTTP 404 for {lost.Digest})"), (checks[2].Result, checks[2].Reason));
        Assert.Equal("2.0.0", await bed.Version(staging));
        Assert.DoesNotContain(await bed.Containers(staging, all: false), c => !c.Contains("2.0.0", StringComparison.Ordinal));

        // Under limits the old release no longer fits in, it does not start, and says why.
        var tight = (await bed.Deployer.VerifyRollbackAsync(staging with { Memory = "1m" })).Select(c => c.Check).First();
        output.WriteLine($"{tight.Version} {tight.Result}: {tight.Reason}");
        Assert.Equal("unhealthy", tight.Result);
        Assert.StartsWith("does not start: ", tight.Reason);

        // "ok" means it: a rollback to the target whose image left the host pulls it by digest and serves it.
        await bed.Deployer.RollbackAsync(staging, "12.0.0-gone", new DeployOptions { DeployedBy = "tester" });
        Assert.Equal("12.0.0-gone", await bed.Version(staging));
    }
}
