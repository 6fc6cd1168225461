namespace Delivery.Provisioning;

public enum RequirementKind
{
    /// <summary>An executable on PATH, from one Debian/Ubuntu package.</summary>
    Tool,

    /// <summary>A Docker Engine that answers, of any kind (Debian docker.io, Docker's docker-ce, Moby), and its CLI.</summary>
    Engine,

    /// <summary>A Chromium-family browser for Playwright (chromium, chromium-browser unless it is the snap stub,
    /// google-chrome, microsoft-edge).</summary>
    Browser,
}

/// <summary>Something a target or a test suite needs on the machine, and the package that provides it.</summary>
/// <param name="Executable">What is looked up on PATH (for the engine: dockerd).</param>
/// <param name="Package">The package on Debian 12; Ubuntu 22.04/24.04 use the same name unless <paramref name="UbuntuPackage"/> says otherwise.</param>
public sealed record Requirement(string Executable, string Package, RequirementKind Kind = RequirementKind.Tool, string? UbuntuPackage = null)
{
    /// <summary>The package on a distribution; null when it has none (Chromium on Ubuntu is a snap, not a deb).</summary>
    public string? PackageOn(Distribution distribution) => distribution switch
    {
        Distribution.Debian12 => Package,
        Distribution.Ubuntu2204 or Distribution.Ubuntu2404 => Kind == RequirementKind.Browser ? null : UbuntuPackage ?? Package,
        _ => null,
    };

    public string Name => Kind switch
    {
        RequirementKind.Engine => "Docker Engine",
        RequirementKind.Browser => "browser",
        _ => Executable,
    };

    public static readonly Requirement Engine = new("dockerd", "docker.io", RequirementKind.Engine);
    public static readonly Requirement Browser = new("chromium", "chromium", RequirementKind.Browser);
    public static readonly Requirement Registry = new("docker-registry", "docker-registry");
    public static readonly Requirement Htpasswd = new("htpasswd", "apache2-utils");
    public static readonly Requirement Haproxy = new("haproxy", "haproxy");
    public static readonly Requirement Socat = new("socat", "socat");
    /// <summary>Static: the tests copy it into images that have no libc.</summary>
    public static readonly Requirement Busybox = new("busybox", "busybox-static");
    public static readonly Requirement Promtool = new("promtool", "prometheus");
    public static readonly Requirement Prometheus = new("prometheus", "prometheus");
    public static readonly Requirement Wrk = new("wrk", "wrk");
    /// <summary>Checks every rendered host script (Delivery.Hosts.Tests).</summary>
    public static readonly Requirement Shellcheck = new("shellcheck", "shellcheck");
    public static readonly Requirement AnsiblePlaybook = new("ansible-playbook", "ansible-core");
    public static readonly Requirement Openssl = new("openssl", "openssl");
    public static readonly Requirement Ip = new("ip", "iproute2");
    public static readonly Requirement Curl = new("curl", "curl");
    /// <summary>The official AWS CLI: tests check that it accepts the AWS test endpoint's answers. GitHub's runners
    /// already have AWS CLI v2.</summary>
    public static readonly Requirement Aws = new("aws", "awscli");

    /// <summary>Every requirement, in the order plans list them.</summary>
    public static readonly IReadOnlyList<Requirement> All =
        [Engine, Browser, Registry, Htpasswd, Haproxy, Socat, Busybox, Promtool, Prometheus, Wrk, Shellcheck, AnsiblePlaybook, Openssl, Ip, Curl, Aws];
}
