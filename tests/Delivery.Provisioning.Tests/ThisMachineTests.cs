using Delivery.Core;

namespace Delivery.Provisioning.Tests;

/// <summary>The survey and the plan on this machine (Debian 12, as root), run for real.</summary>
public sealed class ThisMachineTests
{
    static Task<MachineState> Survey() => MachineSurvey.TakeAsync(new EngineState(Answers: File.Exists("/var/run/docker.sock")));

    [Fact]
    public async Task The_survey_reads_os_release_privilege_and_tools()
    {
        var machine = await Survey();

        Assert.Equal(OsRelease.Read().Distribution, machine.Os.Distribution);
        Assert.Equal(Environment.IsPrivilegedProcess ? Privilege.Root : await MachineSurvey.DetectPrivilegeAsync(), machine.Privilege);
        foreach (var (name, path) in machine.Executables)
        {
            Assert.True(File.Exists(path), $"{name} at {path}");
            Assert.Equal(name, Path.GetFileName(path));
        }
    }

    [Fact]
    public void Static_and_dynamic_executables_are_told_apart()
    {
        var ls = MachineSurvey.FindOnPath("ls")!;
        Assert.False(Elf.IsStatic(ls), $"{ls} is dynamic");
        var staticBinary = new[] { "/usr/bin/busybox", "/bin/busybox" }.FirstOrDefault(p => File.Exists(p) && new FileInfo(p).Length > 500_000);
        Assert.NotNull(staticBinary); // the Debian package busybox-static; the plan installs it for the test images
        Assert.True(Elf.IsStatic(staticBinary));
        Assert.False(Elf.IsStatic("/etc/os-release"));
    }

    [Fact]
    public void Ubuntus_chromium_browser_snap_stub_is_not_a_browser()
    {
        var directory = Directory.CreateTempSubdirectory("snap-stub");
        try
        {
            var stub = Path.Combine(directory.FullName, "chromium-browser");
            File.WriteAllText(stub, "#! /bin/sh\n# Chromium is now a snap\nexec /snap/bin/chromium \"$@\"\n");
            var launcher = Path.Combine(directory.FullName, "chromium");
            File.WriteAllText(launcher, "#!/bin/sh\nexec /usr/lib/chromium/chromium \"$@\"\n");
            var link = Path.Combine(directory.FullName, "chromium-link");
            File.CreateSymbolicLink(link, "/snap/bin/chromium");

            Assert.True(MachineSurvey.IsSnapStub(stub));
            Assert.True(MachineSurvey.IsSnapStub(link));
            Assert.False(MachineSurvey.IsSnapStub(launcher));
            if (File.Exists("/usr/bin/chromium")) Assert.False(MachineSurvey.IsSnapStub("/usr/bin/chromium"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The Debian path for real: a survey that has lost socat (the "found tools" view is edited, the machine is not)
    /// plans apt-get update and install of socat, the plan runs as root, and a new survey finds socat and plans nothing.
    /// Installing an installed package changes nothing, so the machine is left as it was.
    /// </summary>
    [Fact]
    public async Task The_Debian_plan_runs_for_real_and_a_second_survey_plans_nothing()
    {
        var machine = await Survey();
        Assert.True(machine.Os.Distribution == Distribution.Debian12 && machine.Privilege != Privilege.None,
            "this test runs the Debian plan for real: it needs Debian 12 and root or password-less sudo");
        var withoutSocat = machine with { Executables = machine.Executables.Where(e => e.Key != "socat").ToDictionary() };

        var plan = ProvisioningPlanner.Plan(withoutSocat, [Requirement.Socat]);
        Assert.Equal(["socat"], plan.Packages);
        var log = new List<string>();
        await Provisioner.ApplyAsync(plan, log.Add);

        Assert.Contains("Installing socat", log);
        Assert.Contains(log, l => l.EndsWith("apt-get install -y -qq --no-install-recommends socat", StringComparison.Ordinal));
        var after = await Survey();
        Assert.True(ProvisioningPlanner.Plan(after, [Requirement.Socat]).NothingToDo);
    }

    [Fact]
    public async Task A_failing_plan_throws_its_one_line_and_runs_nothing()
    {
        var plan = ProvisioningPlanner.Plan(Fixtures.DebianWithoutSudo, Fixtures.TestNeeds);
        var log = new List<string>();

        var error = await Assert.ThrowsAsync<DeliveryException>(() => Provisioner.ApplyAsync(plan, log.Add));

        Assert.Equal(plan.Failure, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Empty(log);
    }
}

public sealed class EnsureTests
{
    static readonly EngineProbe LocalEngine = new("unix:///var/run/docker.sock", true, _ => Task.FromResult(File.Exists("/var/run/docker.sock")));

    [Fact]
    public async Task On_a_provisioned_machine_the_plan_says_nothing_to_install_and_runs_nothing()
    {
        var log = new List<string>();

        var plan = await MachineProvisioning.EnsureAsync([Requirement.Engine, Requirement.Registry, Requirement.Socat], LocalEngine, log.Add);

        Assert.True(plan.NothingToDo, plan.Describe());
        Assert.Equal("  done     nothing to install", log[^1]);
        Assert.DoesNotContain(log, l => l.StartsWith("> ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_remote_engine_fails_in_one_line_instead_of_installing()
    {
        var remote = new EngineProbe("tcp://127.0.0.1:9", IsLocal: false, _ => Task.FromResult(false));
        var log = new List<string>();

        var error = await Assert.ThrowsAsync<DeliveryException>(() => MachineProvisioning.EnsureAsync([Requirement.Engine], remote, log.Add));

        Assert.EndsWith("the Docker Engine at tcp://127.0.0.1:9 is not reachable: start it there, or unset DOCKER_HOST to use the local engine; then build again", error.Message);
        Assert.DoesNotContain(log, l => l.StartsWith("> ", StringComparison.Ordinal));
    }
}
