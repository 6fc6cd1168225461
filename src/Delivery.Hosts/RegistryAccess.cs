using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>
/// A registry login the build has for the release's registry (user and password), to hand to the hosts of a site
/// that has no standing login of its own. It is never rendered into a script: a site stores it where its hosts read
/// it with their own role (<see cref="Sites.Site.RegistryAccessAsync"/>) and the scripts get only that place's name.
/// </summary>
public sealed partial class RegistryCredential(string registry, string username, string password)
{
    public string Registry { get; } = registry;
    public string Username { get; } = username;
    public string Password { get; } = password;

    /// <summary>What a SecureString holds: user:password (the user has no ':', as in HTTP Basic).</summary>
    public string Secret => $"{Username}:{Password}";

    public void Validate()
    {
        if (!RegistryPattern().IsMatch(Registry))
            throw new DeliveryException($"Registry '{Registry}' must be a host name or address with an optional port.");
        if (Username.Length == 0 || Username.Contains(':') || Username.Any(char.IsControl))
            throw new DeliveryException($"Registry user name '{Username}' must be non-empty, without ':' or control characters.");
        if (Password.Length == 0 || Password.Any(c => c is '\n' or '\r'))
            throw new DeliveryException($"The password for {Registry} must be non-empty and one line.");
    }

    /// <summary>Never the password.</summary>
    public override string ToString() => $"{Username}@{Registry}";

    [GeneratedRegex(@"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")] private static partial Regex RegistryPattern();
}

/// <summary>How a site's hosts log in to <paramref name="Registry"/> before they pull: the SecureString parameter
/// holding the credential, read with the host's own role in <paramref name="Region"/>. The scripts get these names,
/// never the secret.</summary>
public sealed record RegistryAccess(string Registry, string CredentialParameter, string Region)
{
    /// <summary>The registry a repository lives in, by docker's rule: a first component with '.' or ':' (or
    /// localhost) names the registry; anything else is on Docker Hub.</summary>
    public static string RegistryOf(string repository)
    {
        var first = repository.Split('/')[0];
        return repository.Contains('/') && (first.Contains('.') || first.Contains(':') || first == "localhost") ? first : "docker.io";
    }
}

/// <summary>Why a host could not pull, as the host script reports it (<see cref="HostDataKind.Failure"/>'s reason).</summary>
public enum RegistryFailure
{
    /// <summary>The registry refused the credentials (or the host had none).</summary>
    Credentials,
    /// <summary>The host could not read its credential parameter (its role, KMS, or the AWS CLI).</summary>
    CredentialParameter,
    /// <summary>The registry's TLS certificate is not trusted by the host's engine (an unknown CA).</summary>
    Tls,
    /// <summary>The registry does not answer from the host (DNS, route, firewall, down).</summary>
    Unreachable,
    /// <summary>The registry answers but has no such manifest.</summary>
    Missing,
    /// <summary>Anything else docker said.</summary>
    Other,
}

/// <summary>One host's failed pull: why, which image, and docker's own last line.</summary>
public sealed record PullFailure(RegistryFailure Reason, string Image, string Detail);

public static class RegistryFailures
{
    /// <summary>The wire name: kebab case of the member (credential-parameter).</summary>
    public static string WireName(this RegistryFailure reason) =>
        Regex.Replace(reason.ToString(), "(?<=[a-z])([A-Z])", "-$1").ToLowerInvariant();

    public static RegistryFailure? Parse(string? wire) =>
        Enum.GetValues<RegistryFailure>().Select(r => (RegistryFailure?)r).FirstOrDefault(r => r!.Value.WireName() == wire);

    /// <summary>What to do about it, in words an operator acts on.</summary>
    public static string Fix(this RegistryFailure reason, string registry, RegistryAccess? access) => reason switch
    {
        RegistryFailure.Credentials => access is not null
            ? $"the registry refused the credentials the build stored in {access.CredentialParameter}; pass the right --registry-username and REGISTRY_PASSWORD for {registry}"
            : $"the registry refused the host's credentials; pass --registry-username and REGISTRY_PASSWORD for {registry} (or run ./build.sh ConfigureHost --registry {registry})",
        RegistryFailure.CredentialParameter => access is not null
            ? $"the hosts cannot read {access.CredentialParameter}; give their role ssm:GetParameter on it and kms:Decrypt on its key through SSM (iam/instance-role-policy.json) and install the AWS CLI (./build.sh ConfigureHost)"
            : "the hosts cannot read their registry credential",
        RegistryFailure.Tls => $"the hosts' engine does not trust {registry}'s certificate; install its CA as /etc/docker/certs.d/{registry}/ca.crt on every host",
        RegistryFailure.Unreachable => $"the hosts cannot reach {registry}; check its address, DNS and the hosts' route and security groups to it",
        RegistryFailure.Missing => $"{registry} has no such image; push it first (./build.sh Push) or check --registry",
        _ => $"see the hosts' docker error for {registry}",
    };
}
