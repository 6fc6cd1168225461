namespace Delivery.Provisioning.Tests;

/// <summary>The rules behind the plans, one at a time.</summary>
public sealed class PlanRuleTests
{
    static readonly Requirement[] EngineAndRegistry = [Requirement.Engine, Requirement.Registry];

    static MachineState Complete(Privilege privilege = Privilege.Root) => new()
    {
        Os = Fixtures.Debian12,
        Privilege = privilege,
        User = privilege == Privilege.Root ? "root" : "dev",
        Executables = Fixtures.Everything(),
        Engine = new EngineState(Answers: true, DaemonRunning: true),
        Browsers = ["/usr/bin/chromium"],
    };

    [Fact]
    public void Everything_present_means_nothing_to_do_even_without_privilege()
    {
        var plan = ProvisioningPlanner.Plan(Complete(Privilege.None), Fixtures.TestNeeds);

        Assert.True(plan.NothingToDo);
        Assert.Equal("/usr/bin/chromium", plan.BrowserPath);
        Assert.EndsWith("  done     nothing to install\n", plan.Describe());
    }

    [Fact]
    public void An_unknown_distribution_with_everything_present_needs_nothing()
    {
        Assert.True(ProvisioningPlanner.Plan(Complete() with { Os = Fixtures.Fedora }, Fixtures.TestNeeds).NothingToDo);
    }

    [Fact]
    public void On_the_runner_neither_docker_io_nor_chromium_is_ever_planned()
    {
        var plan = ProvisioningPlanner.Plan(Fixtures.Ubuntu2404Runner, Fixtures.TestNeeds);

        Assert.Null(plan.Failure);
        Assert.DoesNotContain("docker.io", plan.Packages);
        Assert.DoesNotContain(plan.Packages, p => p.Contains("chromium", StringComparison.Ordinal));
        Assert.DoesNotContain(plan.Commands, c => c.Arguments.Contains("dockerd"));
        Assert.All(plan.Commands, c => Assert.Equal(["sudo", "-n"], c.Arguments.Take(2)));
        Assert.Equal("/usr/bin/google-chrome", plan.BrowserPath);
    }

    [Fact]
    public void Prerequisites_on_the_runner_install_only_the_registry()
    {
        var plan = ProvisioningPlanner.Plan(Fixtures.Ubuntu2404Runner, EngineAndRegistry);

        Assert.Equal(["docker-registry"], plan.Packages);
        Assert.Equal("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry", plan.Commands[^1].ToString());
    }

    [Fact]
    public void An_installed_engine_that_is_not_running_is_started_through_sudo_and_waited_for()
    {
        var machine = Complete(Privilege.Sudo) with { Engine = new EngineState(Answers: false) };

        var plan = ProvisioningPlanner.Plan(machine, EngineAndRegistry);

        Assert.Empty(plan.Install);
        Assert.Equal("sudo -n setsid -f /bin/sh -c 'exec \"$1\" >>\"$2\" 2>&1 </dev/null' dockerd /usr/bin/dockerd /var/log/dockerd.log",
            Assert.Single(plan.Commands).ToString());
        Assert.True(plan.WaitForEngine);
    }

    [Fact]
    public void A_stopped_engine_without_privilege_fails_saying_how_to_start_it()
    {
        var plan = ProvisioningPlanner.Plan(Complete(Privilege.None) with { Engine = new EngineState(Answers: false) }, EngineAndRegistry);

        Assert.Equal("Cannot provision Debian GNU/Linux 12 (bookworm): dockerd is not running and this user (dev) is not root and 'sudo -n true' fails: " +
                     "start it (sudo systemctl start docker, or sudo dockerd); then build again", plan.Failure);
        Assert.Empty(plan.Commands);
    }

    [Fact]
    public void A_starting_engine_is_waited_for_not_started_twice()
    {
        var plan = ProvisioningPlanner.Plan(Complete() with { Engine = new EngineState(Answers: false, DaemonRunning: true) }, EngineAndRegistry);

        Assert.Empty(plan.Commands);
        Assert.True(plan.WaitForEngine);
    }

    [Fact]
    public void A_remote_engine_is_never_installed_here()
    {
        var machine = Fixtures.FreshDebianRoot with { Engine = new EngineState(Answers: false, Endpoint: "tcp://10.0.0.5:2375", IsLocal: false) };

        var plan = ProvisioningPlanner.Plan(machine, EngineAndRegistry);

        Assert.Equal("Cannot provision Debian GNU/Linux 12 (bookworm): the Docker Engine at tcp://10.0.0.5:2375 is not reachable: start it there, " +
                     "or unset DOCKER_HOST to use the local engine; then build again", plan.Failure);
        Assert.DoesNotContain("docker.io", plan.Packages);
    }

    [Fact]
    public void An_engine_without_its_CLI_never_gets_docker_io_next_to_it()
    {
        var executables = Fixtures.Everything().Where(e => e.Key != "docker").ToDictionary();

        var plan = ProvisioningPlanner.Plan(Complete() with { Executables = executables }, EngineAndRegistry);

        Assert.StartsWith("Cannot provision Debian GNU/Linux 12 (bookworm): the engine at unix:///var/run/docker.sock answers but the docker CLI is missing", plan.Failure);
        Assert.DoesNotContain("docker.io", plan.Packages);
    }

    [Fact]
    public void One_package_serving_two_tools_is_installed_once()
    {
        var executables = Fixtures.Everything().Where(e => e.Key is not ("promtool" or "prometheus")).ToDictionary();

        var plan = ProvisioningPlanner.Plan(Complete() with { Executables = executables }, Fixtures.TestNeeds);

        Assert.Equal(new PackageInstall("prometheus", ["promtool", "prometheus"]), Assert.Single(plan.Install), new InstallComparer());
        Assert.Equal(["apt-get", "update", "-qq"], plan.Commands[0].Arguments);
    }

    [Theory]
    [InlineData(Privilege.Root, "sh -c 'mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"' sh /etc/docker/certs.d/127.0.0.1:5443/ca.crt")]
    [InlineData(Privilege.Sudo, "sudo -n sh -c 'mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"' sh /etc/docker/certs.d/127.0.0.1:5443/ca.crt")]
    public void Writing_under_etc_follows_the_same_privilege_rule(Privilege privilege, string expected)
    {
        Assert.Equal(expected, PrivilegedFile.WriteCommand(privilege, "/etc/docker/certs.d/127.0.0.1:5443/ca.crt")!.ToString());
        Assert.Null(PrivilegedFile.WriteCommand(Privilege.None, "/etc/docker/certs.d/127.0.0.1:5443/ca.crt"));
    }

    [Theory]
    [InlineData("ID=debian\nVERSION_ID=\"12\"\n", Distribution.Debian12)]
    [InlineData("ID=debian\nVERSION_ID=\"11\"\n", Distribution.Unsupported)]
    [InlineData("ID=ubuntu\nVERSION_ID=\"24.04\"\n", Distribution.Ubuntu2404)]
    [InlineData("ID='ubuntu'\nVERSION_ID=22.04\n", Distribution.Ubuntu2204)]
    [InlineData("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"\n", Distribution.Unsupported)]
    [InlineData("", Distribution.Unsupported)]
    public void Distributions_are_read_from_os_release(string text, Distribution expected)
    {
        Assert.Equal(expected, OsRelease.Parse(text).Distribution);
    }

    sealed class InstallComparer : IEqualityComparer<PackageInstall>
    {
        public bool Equals(PackageInstall? x, PackageInstall? y) => x!.Package == y!.Package && x.Provides.SequenceEqual(y.Provides);
        public int GetHashCode(PackageInstall obj) => obj.Package.GetHashCode();
    }
}
