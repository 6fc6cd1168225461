using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Delivery.Core;
using Delivery.Provisioning;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>How a test registry authenticates: nothing, htpasswd, or Docker tokens signed by an issuer.</summary>
public abstract record RegistryAuthConfig
{
    public sealed record Htpasswd(string Username, string Password) : RegistryAuthConfig;
    public sealed record Token(string Realm, string Service, string Issuer, string RootCertBundle) : RegistryAuthConfig;
}

/// <summary>
/// A real distribution registry (Debian's docker-registry) as a child process on a free loopback port, with TLS
/// and auth as a test configures them. When it has a TLS certificate and <c>InstallCa</c>, its CA goes to
/// /etc/docker/certs.d/&lt;host:port&gt;/ca.crt, where both the engine and the registry client look; disposing
/// removes it again.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    readonly Process process;
    readonly string? installedCaDirectory;

    RegistryServer(Process process, string address, string directory, string? installedCaDirectory)
    {
        this.process = process;
        Address = address;
        Directory = directory;
        this.installedCaDirectory = installedCaDirectory;
    }

    public string Address { get; }
    public string Directory { get; }
    public string LogFile => Path.Combine(Directory, "registry.log");

    public static async Task<RegistryServer> StartAsync(string directory, RegistryAuthConfig? auth = null, PemPair? tls = null, PemPair? installCa = null)
    {
        var port = TestSupport.Tools.FreePort();
        var address = $"127.0.0.1:{port}";
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "data"));
        var config = new StringBuilder()
            .AppendLine("version: 0.1")
            .AppendLine("log:\n  level: info")
            .AppendLine($"storage:\n  filesystem:\n    rootdirectory: '{Path.Combine(directory, "data")}'\n  delete:\n    enabled: true")
            .AppendLine($"http:\n  addr: '{address}'\n  secret: '{Guid.NewGuid():N}'");
        if (tls is not null) config.AppendLine($"  tls:\n    certificate: '{tls.CertificateFile}'\n    key: '{tls.KeyFile}'");
        switch (auth)
        {
            case RegistryAuthConfig.Htpasswd basic:
                var htpasswd = Path.Combine(directory, "htpasswd");
                var hashed = await ProcessRunner.RunCheckedAsync("htpasswd", ["-iBn", basic.Username], new ProcessOptions { StandardInput = basic.Password + "\n" });
                await File.WriteAllTextAsync(htpasswd, hashed.StandardOutput.Trim() + "\n");
                config.AppendLine($"auth:\n  htpasswd:\n    realm: test-registry\n    path: '{htpasswd}'");
                break;
            case RegistryAuthConfig.Token token:
                config.AppendLine($"auth:\n  token:\n    realm: '{token.Realm}'\n    service: '{token.Service}'\n    issuer: '{token.Issuer}'\n    rootcertbundle: '{token.RootCertBundle}'");
                break;
        }
        var configFile = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(configFile, config.ToString());

        string? caDirectory = null;
        if (installCa is not null)
        {
            caDirectory = Path.Combine("/etc/docker/certs.d", address);
            // Root writes it; a sudo user (GitHub's runners) through sudo -n, as the provisioning plan does.
            await PrivilegedFile.WriteAsync(await Privileged.DetectAsync(), Path.Combine(caDirectory, "ca.crt"),
                await File.ReadAllTextAsync(installCa.CertificateFile));
        }

        var log = Path.Combine(directory, "registry.log");
        var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exec /usr/bin/docker-registry serve \"$1\" >\"$2\" 2>&1", "registry", configFile, log])
        {
            UseShellExecute = false,
        })!;
        var server = new RegistryServer(process, address, directory, caDirectory);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) break;
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        var tail = File.Exists(log) ? string.Join(" | ", File.ReadAllLines(log).TakeLast(3)) : "";
        await server.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start on {address}: {tail}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
        if (installedCaDirectory is not null && System.IO.Directory.Exists(installedCaDirectory))
            await Privileged.RunAsync("removing a test CA from /etc/docker/certs.d", "rm", "-rf", installedCaDirectory);
    }
}
