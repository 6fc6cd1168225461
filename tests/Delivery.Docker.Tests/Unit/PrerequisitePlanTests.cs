namespace Delivery.Docker.Tests.Unit;

public sealed class PrerequisitePlanTests
{
    static readonly DockerEndpoint Local = DockerEndpoint.Default;

    static MachineFacts Facts(bool reachable = true, bool local = true, bool dockerd = true, bool running = true, bool registry = true, bool root = true, bool debian = true) =>
        new(reachable, local, dockerd, running, registry, root, debian);

    [Fact]
    public void Everything_present_means_nothing_to_do()
    {
        Assert.True(DockerPrerequisites.Plan(Facts(), requireRegistry: true, Local).NothingToDo);
    }

    [Fact]
    public void Root_on_Debian_installs_only_whats_missing_and_starts_the_daemon()
    {
        var plan = DockerPrerequisites.Plan(Facts(reachable: false, dockerd: false, running: false, registry: false), true, Local);
        Assert.Equal(["docker.io", "docker-registry"], plan.PackagesToInstall);
        Assert.True(plan.StartDaemon);
        Assert.Null(plan.Failure);

        var onlyDaemon = DockerPrerequisites.Plan(Facts(reachable: false, running: false), true, Local);
        Assert.Empty(onlyDaemon.PackagesToInstall);
        Assert.True(onlyDaemon.StartDaemon);
    }

    [Fact]
    public void A_reachable_engine_without_registry_installs_only_the_registry()
    {
        var plan = DockerPrerequisites.Plan(Facts(registry: false), true, Local);
        Assert.Equal(["docker-registry"], plan.PackagesToInstall);
        Assert.False(plan.StartDaemon);
        Assert.True(DockerPrerequisites.Plan(Facts(registry: false), requireRegistry: false, Local).NothingToDo);
    }

    [Fact]
    public void A_starting_daemon_is_waited_for_not_started_twice()
    {
        var plan = DockerPrerequisites.Plan(Facts(reachable: false, running: true), true, Local);
        Assert.True(plan.WaitForDaemon);
        Assert.False(plan.StartDaemon);
    }

    [Fact]
    public void Not_root_fails_with_the_exact_apt_command()
    {
        var plan = DockerPrerequisites.Plan(Facts(reachable: false, dockerd: false, running: false, registry: false, root: false), true, Local);
        Assert.Equal("Missing docker.io and docker-registry: run 'sudo apt-get install -y docker.io docker-registry' and start dockerd, then build again", plan.Failure);
    }

    [Fact]
    public void Not_Debian_fails_naming_what_to_install()
    {
        var plan = DockerPrerequisites.Plan(Facts(reachable: false, dockerd: false, running: false, debian: false), true, Local);
        Assert.Contains("Missing Docker Engine (dockerd)", plan.Failure);
    }

    [Fact]
    public void Installed_but_stopped_without_root_says_how_to_start_it()
    {
        var plan = DockerPrerequisites.Plan(Facts(reachable: false, running: false, root: false), true, Local);
        Assert.StartsWith("Docker Engine is not running at unix:///var/run/docker.sock: start it", plan.Failure);
    }

    [Fact]
    public void A_remote_engine_is_never_installed_locally()
    {
        var remote = DockerEndpoint.Parse("tcp://10.0.0.5:2375");
        var plan = DockerPrerequisites.Plan(Facts(reachable: false, local: false, dockerd: false, running: false), true, remote);
        Assert.Empty(plan.PackagesToInstall);
        Assert.Contains("tcp://10.0.0.5:2375", plan.Failure);
    }

    [Fact]
    public void Os_release_detection()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "PRETTY_NAME=\"Ubuntu 24.04\"\nID=ubuntu\nID_LIKE=debian\n");
            Assert.True(DockerPrerequisites.IsDebianLike(DockerPrerequisites.ReadOsRelease(path)));
            File.WriteAllText(path, "ID=\"fedora\"\n");
            Assert.False(DockerPrerequisites.IsDebianLike(DockerPrerequisites.ReadOsRelease(path)));
            File.WriteAllText(path, "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n");
            Assert.True(DockerPrerequisites.IsDebianLike(DockerPrerequisites.ReadOsRelease(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
