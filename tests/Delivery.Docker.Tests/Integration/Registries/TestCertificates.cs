using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>A certificate and its key as PEM files, as a registry's config names them.</summary>
public sealed record PemPair(X509Certificate2 Certificate, string CertificateFile, string KeyFile, RSA Key);

/// <summary>A CA made for one test, and server certificates it signs for 127.0.0.1 (and a host name, when given).</summary>
public static class TestCertificates
{
    public static PemPair CreateAuthority(string directory, string name)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        return Write(directory, name, certificate, key);
    }

    /// <summary>A server certificate for 127.0.0.1 and localhost, and <paramref name="hostName"/> and
    /// <paramref name="address"/> when given.</summary>
    public static PemPair CreateServer(string directory, PemPair authority, string name = "registry", string? hostName = null, IPAddress? address = null)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={hostName ?? "127.0.0.1"}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        if (address is not null) names.AddIpAddress(address);
        names.AddDnsName("localhost");
        if (hostName is not null) names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var certificate = request.Create(authority.Certificate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        return Write(directory, name, certificate, key);
    }

    static PemPair Write(string directory, string name, X509Certificate2 certificate, RSA key)
    {
        Directory.CreateDirectory(directory);
        var certificateFile = Path.Combine(directory, name + ".crt");
        var keyFile = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return new PemPair(certificate, certificateFile, keyFile, key);
    }
}
