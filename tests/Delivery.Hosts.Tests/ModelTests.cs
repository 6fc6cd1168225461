using Delivery.Core;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Tests;

public sealed class ModelTests
{
    [Fact]
    public void Environments_have_their_ports_and_defaults()
    {
        Assert.Equal(8081, DeployEnvironment.Named("staging").PublicPort);
        Assert.Equal(8080, DeployEnvironment.Named("Production").PublicPort);
        Assert.Equal("Production", DeployEnvironment.Production.AspNetCoreEnvironment);
        Assert.Equal(8080, DeployEnvironment.Staging.ContainerPort);
        Assert.Equal("/readyz", DeployEnvironment.Staging.HealthPath);
        Assert.Equal(3, DeployEnvironment.Staging.KeepReleases);
    }

    [Fact]
    public void An_unknown_environment_is_one_line_listing_the_valid_ones()
    {
        var error = Assert.Throws<DeliveryException>(() => DeployEnvironment.Named("qa"));
        Assert.Equal("Unknown environment 'qa'. Valid environments: staging, production.", error.Message);
    }

    [Theory]
    [InlineData("1.2.3", "reg:5000/webapp", "sha256:abc", "Image digest 'sha256:abc' must be sha256: followed by 64 lower-case hex digits.")]
    [InlineData("1.2.3'; rm -rf /", "reg/webapp", null, "Release version '1.2.3'; rm -rf /' may contain only letters, digits, '.', '+', '_' and '-'.")]
    [InlineData("1.2.3", "Reg/WebApp", null, "Image repository 'Reg/WebApp' is not a valid repository name (lower-case, e.g. registry:5000/webapp).")]
    public void Bad_releases_are_refused_before_any_script_is_rendered(string version, string repository, string? digest, string message)
    {
        var release = new PinnedImage(version, repository, digest ?? "sha256:" + new string('b', 64));
        var error = Assert.Throws<DeliveryException>(() => HostScripts.Deploy(new HostSettings(), DeployEnvironment.Staging, release, new DeployOptions { DeployedBy = "ci" }));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("447a3fd", null)]
    [InlineData("unknown", null)]
    [InlineData("HEAD; id", "Commit 'HEAD; id' must be a hex git object id (or 'unknown' for a build outside git).")]
    public void A_release_commit_is_a_git_id_or_unknown(string commit, string? message)
    {
        var release = new PinnedImage("1.2.3", "reg/webapp", "sha256:" + new string('b', 64)) { Commit = commit };
        var error = Record.Exception(release.Validate);
        Assert.Equal(message, error?.Message);
    }

    [Fact]
    public void Bad_settings_are_refused_with_one_line()
    {
        var release = new PinnedImage("1.0.0", "reg/webapp", "sha256:" + new string('b', 64));
        Assert.Equal("State root 'relative/dir' must be an absolute path of letters, digits, '.', '_', '-' and '/'.",
            Assert.Throws<DeliveryException>(() => HostScripts.Deploy(new HostSettings { StateRoot = "relative/dir" }, DeployEnvironment.Staging, release, new DeployOptions())).Message);
        Assert.Equal("The public port of staging must be between 1 and 65535, not 70000.",
            Assert.Throws<DeliveryException>(() => HostScripts.Deploy(new HostSettings(), DeployEnvironment.Staging with { PublicPort = 70000 }, release, new DeployOptions())).Message);
        Assert.Equal("Memory limit 'lots' of staging must look like 512m or 1g.",
            Assert.Throws<DeliveryException>(() => HostScripts.Deploy(new HostSettings(), DeployEnvironment.Staging with { Memory = "lots" }, release, new DeployOptions())).Message);
        Assert.Equal("Deployer name 'eve; id' may contain only letters, digits, '.', '_', '@', '+', ':', '/' and '-'.",
            Assert.Throws<DeliveryException>(() => HostScripts.Deploy(new HostSettings(), DeployEnvironment.Staging, release, new DeployOptions { DeployedBy = "eve; id" })).Message);
    }

    [Fact]
    public void On_GitHub_Actions_the_deployer_is_the_actor_and_the_run_URL()
    {
        var ci = new Dictionary<string, string>
        {
            ["GITHUB_ACTIONS"] = "true", ["GITHUB_ACTOR"] = "octo-cat", ["GITHUB_SERVER_URL"] = "https://github.com",
            ["GITHUB_REPOSITORY"] = "acme/webapp", ["GITHUB_RUN_ID"] = "9876543210",
        };
        var who = DeployOptions.DefaultDeployer(n => ci.GetValueOrDefault(n));

        Assert.Equal("octo-cat@https://github.com/acme/webapp/actions/runs/9876543210", who);
        Assert.Equal(who, new DeployOptions { DeployedBy = who }.DeployedByOrDefault());
        Assert.DoesNotContain("/actions/runs/", DeployOptions.DefaultDeployer(n => n == "GITHUB_ACTIONS" ? null : ci.GetValueOrDefault(n)));
    }

    [Fact]
    public void The_local_host_keeps_its_state_in_the_repository()
    {
        Assert.Equal("/work/repo/.state/host", HostSettings.ForRepository("/work/repo").StateRoot);
        Assert.Equal("/var/lib/webapp-deploy", new HostSettings().StateRoot);
    }

    [Fact]
    public void Host_results_separate_errors_data_and_progress()
    {
        var result = new HostResult(1,
        [
            "webapp-deploy: deploying 1.0.0 to staging",
            "webapp-deploy: data: {\"kind\":\"timing\",\"phase\":\"lock\",\"ms\":3}",
            "    | some container log",
            "webapp-deploy: error: staging is locked by someone",
        ]);
        Assert.False(result.Succeeded);
        Assert.Equal("staging is locked by someone", result.Error);
        Assert.Equal(["{\"kind\":\"timing\",\"phase\":\"lock\",\"ms\":3}"], result.Data);
        Assert.Equal("deploying 1.0.0 to staging | | some container log | error: staging is locked by someone", result.Tail());
    }
}
