using BuildGraph;
using Delivery.Provisioning;

partial class Build
{
    /// <summary>
    /// What the test suites need, by project:
    /// Delivery.Docker.Tests: the engine, docker-registry, htpasswd (basic-auth registries), a static busybox (shell
    /// images), openssl (test CAs for TLS registries). Delivery.Hosts.Tests: the engine and its CLI, dockerd and ip
    /// (a private engine on its own bridge), docker-registry, busybox, wrk, haproxy, socat, ansible-playbook.
    /// WebApp.Tests: a Chromium-family browser, promtool, prometheus. EndToEnd.Tests run ./build.sh itself, which
    /// provisions through this same plan (ConfigureHost's playbook adds haproxy, socat and curl).
    /// </summary>
    static readonly IReadOnlyList<Requirement> TestNeeds = Requirement.All;

    /// <summary>The browser the plan found, passed to the test processes as CHROMIUM_PATH.</summary>
    string? testBrowser;

    Target TestPrerequisites => _ => _
        .Description("Installs what the test suites need (engine, registry, htpasswd, busybox, promtool, a browser, ...) through the provisioning plan")
        .Executes(async () => testBrowser = (await Provision(TestNeeds)).BrowserPath);

    /// <summary>One provisioning path for every machine: survey, print the plan, install only what is missing (apt-get
    /// as root, through sudo -n otherwise), or fail in one line naming the packages.</summary>
    async Task<ProvisioningPlan> Provision(IEnumerable<Requirement> needs)
    {
        var engine = new EngineProbe(Docker.Endpoint.ToString(), Docker.Endpoint.IsDefaultLocalSocket,
            cancellationToken => Docker.TryPingAsync(TimeSpan.FromSeconds(5), cancellationToken));
        var plan = await MachineProvisioning.EnsureAsync(needs, engine, Log.Information, CancellationToken);
        ReportSummary(plan.Install.Count > 0 ? $"installed {string.Join(", ", plan.Packages)}" : plan.WaitForEngine ? "started the engine" : "nothing to install");
        return plan;
    }
}
