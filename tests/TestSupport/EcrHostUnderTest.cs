using System.Security.Cryptography.X509Certificates;
using Aws.TestEndpoint;
using Delivery.Docker;
using Delivery.Docker.Tests.Integration.Registries;

namespace TestSupport;

/// <summary>
/// The ECR registry host of an AWS test endpoint, reachable by its AWS name: the TLS front (a certificate from a CA
/// made for the test) and the HTTPS proxy that routes the name to it. Clients get there by configuration only:
/// <see cref="ClientEnvironment"/> for a process (the engine, ./build.sh), <see cref="RouteThisProcess"/> and
/// <see cref="Trust"/> for this one. The endpoint needs a backing registry (<c>Ecr.BackingRegistry</c>).
/// </summary>
public sealed class EcrHostUnderTest : IAsyncDisposable
{
    readonly string directory;

    EcrHostUnderTest(string directory, PemPair ca, EcrRegistryHost front, EgressProxy proxy)
    {
        this.directory = directory;
        Ca = ca;
        Front = front;
        Proxy = proxy;
    }

    public PemPair Ca { get; }
    public EcrRegistryHost Front { get; }
    public EgressProxy Proxy { get; }

    /// <summary>The registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com.</summary>
    public string Host => Front.Host;

    /// <summary>This machine's CA bundle plus the test CA: other TLS keeps working for a process that uses it.</summary>
    public string CaBundle => Path.Combine(directory, "ca-bundle.crt");

    /// <summary>What a process needs to reach the host: the proxy, and the test CA among its trusted roots (Go and
    /// .NET both read SSL_CERT_FILE).</summary>
    public IReadOnlyDictionary<string, string> ClientEnvironment => new Dictionary<string, string>
    {
        ["HTTPS_PROXY"] = Proxy.Url.ToString(), ["SSL_CERT_FILE"] = CaBundle,
    };

    /// <summary>Engine-style trust for a registry client in this process: &lt;certs.d&gt;/&lt;host&gt;/ca.crt.</summary>
    public RegistryClientOptions Trust => new() { CertsDirectory = Path.Combine(directory, "certs.d") };

    public static async Task<EcrHostUnderTest> StartAsync(AwsTestEndpoint endpoint)
    {
        var directory = Directory.CreateTempSubdirectory("ecr-host-").FullName;
        var ca = TestCertificates.CreateAuthority(directory, "ecr-test-ca");
        var server = TestCertificates.CreateServer(directory, ca, "ecr-registry-host", endpoint.EcrProxyEndpoint.Host);
        using var pem = X509Certificate2.CreateFromPemFile(server.CertificateFile, server.KeyFile);
        var front = await EcrRegistryHost.StartAsync(endpoint, X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null));
        var proxy = new EgressProxy();
        proxy.Route($"{front.Host}:443", front.Listening);
        Directory.CreateDirectory(Path.Combine(directory, "certs.d", front.Host));
        File.Copy(ca.CertificateFile, Path.Combine(directory, "certs.d", front.Host, "ca.crt"));
        const string system = "/etc/ssl/certs/ca-certificates.crt";
        await File.WriteAllTextAsync(Path.Combine(directory, "ca-bundle.crt"),
            (File.Exists(system) ? await File.ReadAllTextAsync(system) : "") + await File.ReadAllTextAsync(ca.CertificateFile));
        return new EcrHostUnderTest(directory, ca, front, proxy);
    }

    /// <summary>This process's HttpClients reach the host through the proxy until the result is disposed; every
    /// other host as before.</summary>
    public IDisposable RouteThisProcess()
    {
        var previous = HttpClient.DefaultProxy;
        HttpClient.DefaultProxy = Proxy.ForRoutedHosts(previous);
        return new Restore(() => HttpClient.DefaultProxy = previous);
    }

    sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>True when the test CA signed <paramref name="certificate"/>.</summary>
    public bool Signed(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(Ca.Certificate);
        return chain.Build(certificate);
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Front.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }
}
