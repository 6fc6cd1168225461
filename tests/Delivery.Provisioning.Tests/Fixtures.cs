namespace Delivery.Provisioning.Tests;

/// <summary>Machines as the issue describes them. Each is a hand-written "found tools" view.</summary>
static class Fixtures
{
    /// <summary>What ./build.sh Test needs: every test project's tools.</summary>
    public static readonly IReadOnlyList<Requirement> TestNeeds = Requirement.All;

    public static readonly OsRelease Debian12 = OsRelease.Parse(
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n");

    public static readonly OsRelease Ubuntu2404 = OsRelease.Parse(
        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n");

    public static readonly OsRelease Ubuntu2204 = OsRelease.Parse(
        "PRETTY_NAME=\"Ubuntu 22.04.5 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n");

    public static readonly OsRelease Fedora = OsRelease.Parse(
        "NAME=\"Fedora Linux\"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME=\"Fedora Linux 40 (Workstation Edition)\"\n");

    /// <summary>A fresh Debian 12 machine, as root, with nothing installed beyond the .NET SDK.</summary>
    public static readonly MachineState FreshDebianRoot = new()
    {
        Os = Debian12,
        Privilege = Privilege.Root,
        User = "root",
    };

    /// <summary>GitHub's ubuntu-24.04 runner: user runner with password-less sudo, Docker's docker-ce running,
    /// Google Chrome installed, no chromium.</summary>
    public static readonly MachineState Ubuntu2404Runner = new()
    {
        Os = Ubuntu2404,
        Privilege = Privilege.Sudo,
        User = "runner",
        Executables = Found("docker=/usr/bin/docker", "dockerd=/usr/bin/dockerd", "shellcheck=/usr/bin/shellcheck", "openssl=/usr/bin/openssl",
            "ip=/usr/sbin/ip", "curl=/usr/bin/curl", "aws=/usr/local/bin/aws"),
        Engine = new EngineState(Answers: true, DaemonRunning: true),
        Browsers = ["/usr/bin/google-chrome"],
    };

    /// <summary>An ubuntu:22.04 machine as root, with Microsoft Edge and Ubuntu's chromium-browser snap stub.</summary>
    public static readonly MachineState Ubuntu2204Root = new()
    {
        Os = Ubuntu2204,
        Privilege = Privilege.Root,
        User = "root",
        Executables = Found("openssl=/usr/bin/openssl", "ip=/usr/sbin/ip", "curl=/usr/bin/curl"),
        Browsers = ["/usr/bin/microsoft-edge"],
        SnapStubs = ["/usr/bin/chromium-browser"],
    };

    /// <summary>A developer on Debian 12 in the docker group, without sudo, missing htpasswd and a static busybox.</summary>
    public static readonly MachineState DebianWithoutSudo = new()
    {
        Os = Debian12,
        Privilege = Privilege.None,
        User = "dev",
        Executables = Found("docker=/usr/bin/docker", "dockerd=/usr/sbin/dockerd", "docker-registry=/usr/bin/docker-registry",
            "haproxy=/usr/sbin/haproxy", "socat=/usr/bin/socat", "promtool=/usr/bin/promtool", "prometheus=/usr/bin/prometheus",
            "wrk=/usr/bin/wrk", "shellcheck=/usr/bin/shellcheck", "ansible-playbook=/usr/bin/ansible-playbook", "openssl=/usr/bin/openssl",
            "ip=/usr/sbin/ip", "curl=/usr/bin/curl", "aws=/usr/bin/aws"),
        Engine = new EngineState(Answers: true, DaemonRunning: true),
        Browsers = ["/usr/bin/chromium"],
    };

    public static readonly MachineState FedoraRoot = new()
    {
        Os = Fedora,
        Privilege = Privilege.Root,
        User = "root",
        Executables = Found("docker=/usr/bin/docker", "dockerd=/usr/bin/dockerd", "openssl=/usr/bin/openssl", "ip=/usr/sbin/ip", "curl=/usr/bin/curl",
            "haproxy=/usr/sbin/haproxy", "socat=/usr/bin/socat"),
        Engine = new EngineState(Answers: true, DaemonRunning: true),
        Browsers = ["/usr/bin/chromium-browser"],
    };

    public static IReadOnlyDictionary<string, string> Found(params string[] pairs) =>
        pairs.Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    /// <summary>Every executable a test-run needs, at Debian's paths.</summary>
    public static IReadOnlyDictionary<string, string> Everything() =>
        Requirement.All.Where(r => r.Kind == RequirementKind.Tool).Select(r => r.Executable).Append("docker").Append("dockerd")
            .ToDictionary(e => e, e => $"/usr/bin/{e}");
}
