using System.Net;
using System.Net.Sockets;
using Delivery.Core;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>Each refusal is one line, exits non-zero, and leaves the host as it was.</summary>
[Collection(HostCollection.Name)]
public sealed class BadInputTests(HostFixture fixture)
{
    static void AssertNothingDeployed(HostTestBed bed, string[] containers)
    {
        Assert.Empty(containers);
        Assert.False(File.Exists(Path.Combine(bed.StateRoot, "envs", "staging", "current")));
        Assert.Empty(bed.History(bed.Staging));
        Assert.False(File.Exists(Path.Combine(bed.StateRoot, "proxy", "conf.d", $"{bed.Settings.AppName}-staging.cfg")));
        Assert.Null(bed.ProxyPid());
        Assert.False(Directory.Exists(Path.Combine(bed.StateRoot, "envs", "staging", "lock")));
    }

    [Fact]
    public async Task A_public_port_taken_by_another_program_is_refused_before_anything_changes()
    {
        await using var bed = fixture.NewBed();
        using var squatter = new TcpListener(IPAddress.Loopback, bed.Staging.PublicPort);
        squatter.Start();

        var error = await bed.DeployFails(bed.Staging, fixture.V1);

        Assert.Equal($"Deploy of 1.0.0 to staging failed on local: public port {bed.Staging.PublicPort} of staging is already in use by another program, not this host's proxy; free it or choose another port (nothing was changed)", error.Message);
        AssertNothingDeployed(bed, await bed.Containers(bed.Staging));
    }

    [Fact]
    public async Task A_host_without_haproxy_is_told_to_run_ConfigureHost()
    {
        await using var bed = fixture.NewBed();
        var deployer = bed.WithSettings(bed.Settings with { Haproxy = "/nonexistent/sbin/haproxy" });

        var error = await Assert.ThrowsAnyAsync<DeliveryException>(() => deployer.DeployAsync(bed.Staging, fixture.V1));

        Assert.Equal("Deploy of 1.0.0 to staging failed on local: haproxy is not installed on this host (/nonexistent/sbin/haproxy not found); run ./build.sh ConfigureHost", error.Message);
        AssertNothingDeployed(bed, await bed.Containers(bed.Staging));
    }

    [Fact]
    public async Task An_image_missing_from_the_registry_fails_the_pull_and_changes_nothing()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        var historyBefore = bed.History(bed.Staging);
        var currentBefore = bed.StateFile(bed.Staging, "current");
        var containersBefore = await bed.Containers(bed.Staging);
        var missing = fixture.V2 with { Version = "2.0.1", Digest = "sha256:" + new string('e', 64) };

        var error = await bed.DeployFails(bed.Staging, missing);

        var registry = RegistryAccess.RegistryOf(missing.Repository);
        Assert.StartsWith($"staging cannot pull 2.0.1 from {registry}: missing on local: {RegistryFailure.Missing.Fix(registry, null)} (docker: ", error.Message);
        Assert.EndsWith("; no host was switched", error.Message);
        Assert.Contains("not found", error.Message);
        Assert.Equal([RegistryFailure.Missing], Assert.IsType<RegistryPullException>(error).Reasons);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(historyBefore, bed.History(bed.Staging));
        Assert.Equal(currentBefore, bed.StateFile(bed.Staging, "current"));
        Assert.Equal(containersBefore, await bed.Containers(bed.Staging));
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
    }

    /// <summary>The host as the pull check must leave it: still serving 1.0.0, with the same containers and records (and this machine's /etc/hosts).</summary>
    static async Task<Func<Task>> Untouched(HostTestBed bed)
    {
        var history = bed.History(bed.Staging);
        var current = bed.StateFile(bed.Staging, "current");
        var containers = await bed.Containers(bed.Staging);
        var hosts = await File.ReadAllTextAsync("/etc/hosts");
        return async () =>
        {
            Assert.Equal(hosts, await File.ReadAllTextAsync("/etc/hosts"));
            Assert.Equal(history, bed.History(bed.Staging));
            Assert.Equal(current, bed.StateFile(bed.Staging, "current"));
            Assert.Equal(containers, await bed.Containers(bed.Staging));
            Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        };
    }

    /// <summary>What the test network may not leave behind: its namespace, its veth end, its route, a CA for its registry.</summary>
    static async Task AssertGone(PrivateNetwork network, string registry)
    {
        var ip = Tools.Require("ip", "iproute2");
        Assert.DoesNotContain(network.Namespace, await Tools.RunChecked(ip, "netns", "list"));
        Assert.DoesNotContain(network.HostInterface, await Tools.RunChecked(ip, "-o", "link", "show"));
        Assert.DoesNotContain(network.Subnet, await Tools.RunChecked(ip, "-4", "route", "show", "table", "all"));
        Assert.False(Directory.Exists(Path.Combine("/etc/docker/certs.d", registry)));
    }

    /// <summary>A real TLS registry at a non-loopback address (a network namespace of the test's own), whose CA the
    /// engine does not trust: the pull check refuses the deploy with the tls reason and its fix, before any switch.</summary>
    [Fact]
    public async Task A_registry_whose_certificate_the_engine_does_not_trust_is_refused_before_any_switch()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        var untouched = await Untouched(bed);
        var network = await PrivateNetwork.CreateAsync();
        string registry;
        DeliveryException error;
        try
        {
            await using var server = await TestRegistry.StartAsync(new TestRegistryOptions(Tls: true, Network: network, EngineTrustsCa: false));
            registry = server.Address;
            // It serves: the same CA that the engine lacks lets this test's own client in (StartAsync waited for /v2/).
            error = await bed.DeployFails(bed.Staging, fixture.V2 with { Version = "2.0.1", Repository = $"{registry}/hdt{fixture.RunId}/webapp" });
        }
        finally
        {
            await network.DisposeAsync();
        }

        Assert.Equal($"staging cannot pull 2.0.1 from {registry}: tls on local: {RegistryFailure.Tls.Fix(registry, null)} " +
                     $"(docker: Error response from daemon: Get \"https://{registry}/v2/\": x509: certificate signed by unknown authority); no host was switched",
            error.Message);
        Assert.Equal([RegistryFailure.Tls], Assert.IsType<RegistryPullException>(error).Reasons);
        await untouched();
        await AssertGone(network, registry);
    }

    /// <summary>An address of the test's own network where nothing listens: the unreachable reason and its fix.</summary>
    [Fact]
    public async Task A_registry_address_where_nothing_listens_is_refused_as_unreachable_before_any_switch()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);
        var untouched = await Untouched(bed);
        var network = await PrivateNetwork.CreateAsync();
        var registry = $"{network.Address}:5001";
        DeliveryException error;
        try
        {
            error = await bed.DeployFails(bed.Staging, fixture.V2 with { Version = "2.0.1", Repository = $"{registry}/hdt{fixture.RunId}/webapp" });
        }
        finally
        {
            await network.DisposeAsync();
        }

        Assert.Equal($"staging cannot pull 2.0.1 from {registry}: unreachable on local: {RegistryFailure.Unreachable.Fix(registry, null)} " +
                     $"(docker: Error response from daemon: Get \"https://{registry}/v2/\": dial tcp {registry}: connect: connection refused); no host was switched",
            error.Message);
        Assert.Equal([RegistryFailure.Unreachable], Assert.IsType<RegistryPullException>(error).Reasons);
        await untouched();
        await AssertGone(network, registry);
    }

    [Fact]
    public async Task An_image_that_runs_as_root_is_refused()
    {
        await using var bed = fixture.NewBed();
        await bed.Deploy(bed.Staging, fixture.V1);

        var error = await bed.DeployFails(bed.Staging, fixture.RunsAsRoot);

        Assert.Equal($"Deploy of 7.0.0-root to staging failed on local: {fixture.RunsAsRoot.ImageReference} runs as root; build it with a non-root USER (nothing was changed)", error.Message);
        Assert.Single(await bed.Containers(bed.Staging));
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
    }

    [Fact]
    public async Task Rolling_back_an_environment_with_nothing_deployed_or_nothing_retained_is_refused()
    {
        await using var bed = fixture.NewBed();
        var nothing = await Assert.ThrowsAnyAsync<DeliveryException>(() => bed.Deployer.RollbackAsync(bed.Staging));
        Assert.Equal("Rollback of staging failed on local: nothing is deployed on staging, so there is nothing to roll back", nothing.Message);

        await bed.Deploy(bed.Staging, fixture.V1);
        var alone = await Assert.ThrowsAnyAsync<DeliveryException>(() => bed.Deployer.RollbackAsync(bed.Staging));
        Assert.Equal("Rollback of staging failed on local: an earlier release is not retained on staging; available: none", alone.Message);
        var same = await Assert.ThrowsAnyAsync<DeliveryException>(() => bed.Deployer.RollbackAsync(bed.Staging, "1.0.0"));
        Assert.Equal("Rollback of staging failed on local: 1.0.0 is already serving on staging", same.Message);
        Assert.Equal("1.0.0", await bed.Version(bed.Staging));
        Assert.Single(bed.History(bed.Staging));
    }
}
