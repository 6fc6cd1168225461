using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>Where a host keeps its deploy state and which programs its scripts call.</summary>
public sealed partial record HostSettings
{
    public const string DefaultStateRoot = "/var/lib/webapp-deploy";

    /// <summary>Holds every piece of host state: locks, history, current/previous releases, the proxy config and socket.</summary>
    public string StateRoot { get; init; } = DefaultStateRoot;
    /// <summary>Prefix of container names, proxy sections and the <c>webapp.app</c> label.</summary>
    public string AppName { get; init; } = "webapp";
    public string Docker { get; init; } = "docker";
    public string Haproxy { get; init; } = "haproxy";
    public string Socat { get; init; } = "socat";
    public string Curl { get; init; } = "curl";
    /// <summary>The AWS CLI, with which a host reads its registry credential parameter (<see cref="RegistryAccess"/>).</summary>
    public string Aws { get; init; } = "aws";
    /// <summary>DOCKER_HOST for the script (e.g. unix:///run/other.sock); null keeps the host's default engine.</summary>
    public string? DockerHost { get; init; }
    /// <summary>Address the proxy binds public ports to; empty means all interfaces.</summary>
    public string PublicBindAddress { get; init; } = "";
    /// <summary>Range scanned for a free 127.0.0.1 port for each new container.</summary>
    public int PrivatePortFirst { get; init; } = 20000;
    public int PrivatePortLast { get; init; } = 20999;

    /// <summary>Where an EC2 host keeps its own settings (state root, app name, public ports), written by ConfigureHost.</summary>
    public const string HostConfigPath = "/etc/webapp-deploy/host.env";
    /// <summary>Scripts read <see cref="HostConfigPath"/> when it exists, so one text serves a whole fleet (SSM hosts).</summary>
    public bool ReadsHostConfig { get; init; }

    /// <summary>The local host's state lives in the repository (ignored by git), so no root-owned directory is needed.</summary>
    public static HostSettings ForRepository(string repositoryRoot) =>
        new() { StateRoot = Path.Combine(Path.GetFullPath(repositoryRoot), ".state", "host") };

    public void Validate()
    {
        if (!Path.IsPathRooted(StateRoot) || !StatePathPattern().IsMatch(StateRoot))
            throw new DeliveryException($"State root '{StateRoot}' must be an absolute path of letters, digits, '.', '_', '-' and '/'.");
        // The admin socket path must fit in sockaddr_un (108 bytes).
        if (StateRoot.Length > 80)
            throw new DeliveryException($"State root '{StateRoot}' is too long for the proxy's admin socket path (at most 80 characters).");
        if (!AppNamePattern().IsMatch(AppName))
            throw new DeliveryException($"App name '{AppName}' must start with a letter and contain lower-case letters, digits and dashes.");
        foreach (var (tool, what) in new[] { (Docker, "docker"), (Haproxy, "haproxy"), (Socat, "socat"), (Curl, "curl"), (Aws, "aws") })
            if (string.IsNullOrWhiteSpace(tool))
                throw new DeliveryException($"The {what} program path must not be empty.");
        if (PublicBindAddress.Length > 0 && !BindPattern().IsMatch(PublicBindAddress))
            throw new DeliveryException($"Public bind address '{PublicBindAddress}' must be an IPv4 address.");
        if (PrivatePortFirst < 1024 || PrivatePortLast > 65535 || PrivatePortFirst > PrivatePortLast)
            throw new DeliveryException($"Private port range {PrivatePortFirst}-{PrivatePortLast} must lie within 1024-65535.");
    }

    [GeneratedRegex("^/[A-Za-z0-9._/-]*$")] private static partial Regex StatePathPattern();
    [GeneratedRegex("^[a-z][a-z0-9-]{0,30}$")] private static partial Regex AppNamePattern();
    [GeneratedRegex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$")] private static partial Regex BindPattern();
}
