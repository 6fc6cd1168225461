using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Delivery.Docker;

/// <summary>Where the engine keeps its registry settings; the registry client trusts and chooses schemes as it does.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Per-registry CA files: &lt;CertsDirectory&gt;/&lt;host:port&gt;/*.crt, as the engine reads them.</summary>
    public string CertsDirectory { get; init; } = "/etc/docker/certs.d";

    /// <summary>The daemon's configuration, for its <c>insecure-registries</c>.</summary>
    public string DaemonConfigFile { get; init; } = "/etc/docker/daemon.json";

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// TLS trust and scheme rules for one registry host, after the engine's: the system store plus the CA files in
/// certs.d; plain http only for loopback and for the daemon's insecure registries (whose certificates, as in the
/// engine, are not verified).
/// </summary>
sealed class RegistryTrust(string registry, RegistryClientOptions options)
{
    public string Registry { get; } = registry;
    public bool IsInsecure { get; } = ListedInsecure(registry, options.DaemonConfigFile);
    public bool AllowsHttp => IsInsecure || IsLoopback(Registry);

    /// <summary>Set when the last TLS handshake was refused for the certificate (not for speaking plain HTTP).</summary>
    public string? LastRejection { get; private set; }

    /// <summary>The CA file the engine would read for <paramref name="hostPort"/>.</summary>
    public string CaFileFor(string hostPort) => Path.Combine(options.CertsDirectory, hostPort, "ca.crt");

    public bool Validate(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        LastRejection = null;
        if (errors == SslPolicyErrors.None) return true;
        var hostPort = request.RequestUri is { } uri ? (uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}") : Registry;
        if (IsInsecure && DockerConfigCredentials.NormalizeRegistry(hostPort) == DockerConfigCredentials.NormalizeRegistry(Registry)) return true;
        if (certificate is null)
        {
            LastRejection = "presented no certificate";
            return false;
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            LastRejection = $"presents a certificate that does not name {request.RequestUri?.Host}";
            return false;
        }
        var authorities = LoadAuthorities(hostPort);
        if (authorities.Count > 0)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            custom.ChainPolicy.DisableCertificateDownloads = true;
            custom.ChainPolicy.CustomTrustStore.AddRange(authorities);
            if (chain is not null)
                foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            if (custom.Build(certificate)) return true;
            LastRejection = $"presents a certificate that {CaFileFor(hostPort)} does not sign";
            return false;
        }
        LastRejection = $"presents a certificate from an unknown authority: add the registry's CA certificate as {CaFileFor(hostPort)}";
        return false;
    }

    X509Certificate2Collection LoadAuthorities(string hostPort)
    {
        var collection = new X509Certificate2Collection();
        var directory = Path.Combine(options.CertsDirectory, hostPort);
        if (!Directory.Exists(directory)) return collection;
        // The engine reads every *.crt there as a CA (client.cert/client.key are client certificates).
        foreach (var file in Directory.EnumerateFiles(directory, "*.crt").Order(StringComparer.Ordinal))
        {
            try
            {
                collection.ImportFromPemFile(file);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                LastRejection = $"has a CA file {file} that is not a PEM certificate";
            }
        }
        return collection;
    }

    public static bool IsLoopback(string registry)
    {
        var host = HostOf(registry);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }

    static string HostOf(string registry)
    {
        if (registry.StartsWith('['))
            return registry[1..registry.IndexOf(']')];
        var colon = registry.LastIndexOf(':');
        return colon > 0 && registry.IndexOf(':') == colon ? registry[..colon] : registry;
    }

    /// <summary>True when the daemon's <c>insecure-registries</c> lists the host:port or a CIDR holding its IP.</summary>
    static bool ListedInsecure(string registry, string daemonConfig)
    {
        if (!File.Exists(daemonConfig)) return false;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(daemonConfig));
            if (!document.RootElement.TryGetProperty("insecure-registries", out var list) || list.ValueKind != JsonValueKind.Array) return false;
            var wanted = DockerConfigCredentials.NormalizeRegistry(registry);
            foreach (var entry in list.EnumerateArray().Select(e => e.GetString()).OfType<string>())
            {
                if (DockerConfigCredentials.NormalizeRegistry(entry) == wanted) return true;
                if (entry.Contains('/') && IPNetwork.TryParse(entry, out var network) && IPAddress.TryParse(HostOf(registry), out var ip) && network.Contains(ip))
                    return true;
            }
            return false;
        }
        catch (JsonException)
        {
            return false; // the engine would not start with it either
        }
    }
}
