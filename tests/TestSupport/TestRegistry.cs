using System.Diagnostics;
using Delivery.Core;
using Delivery.Docker.Tests.Integration.Registries;
using Delivery.Provisioning;

namespace TestSupport;

/// <summary>How a test registry is reached: plain HTTP (the default), or TLS with a CA made for it, installed where the
/// engine looks (/etc/docker/certs.d/&lt;host:port&gt;/ca.crt) unless <paramref name="EngineTrustsCa"/> is false;
/// optionally behind htpasswd (Basic auth); on 127.0.0.1, or in a <paramref name="Network"/> of the test's own.</summary>
public sealed record TestRegistryOptions(bool Tls = false, string? Username = null, string? Password = null, PrivateNetwork? Network = null, bool EngineTrustsCa = true);

/// <summary>A real registry (Debian's docker-registry) on a free 127.0.0.1 port (or port 5000 in a private network
/// namespace), storing in a temp dir. dockerd treats 127.0.0.0/8 registries as insecure, so plain HTTP works there
/// without daemon configuration; at a private network's address it needs TLS its engine trusts.</summary>
public sealed class TestRegistry : IAsyncDisposable
{
    readonly Process process;
    readonly string directory;
    readonly string? installedCa;

    public string Address { get; }
    public TestRegistryOptions Options { get; }
    string Scheme => Options.Tls ? "https" : "http";

    TestRegistry(Process process, string directory, string address, TestRegistryOptions options, string? installedCa)
    {
        this.process = process;
        this.directory = directory;
        this.installedCa = installedCa;
        Address = address;
        Options = options;
    }

    public static async Task<TestRegistry> StartAsync(TestRegistryOptions? options = null)
    {
        options ??= new TestRegistryOptions();
        var binary = Tools.Require("docker-registry", "docker-registry");
        var directory = Directory.CreateTempSubdirectory("test-registry-").FullName;
        var address = options.Network is { } network ? $"{network.Address}:5000" : $"127.0.0.1:{Tools.FreePort()}";
        var extra = "";
        string? installedCa = null;
        if (options.Tls)
        {
            var ca = TestCertificates.CreateAuthority(directory, "ca");
            var server = TestCertificates.CreateServer(directory, ca, address: options.Network?.Address);
            extra += $"\n  tls:\n    certificate: '{server.CertificateFile}'\n    key: '{server.KeyFile}'";
            if (options.EngineTrustsCa)
            {
                installedCa = Path.Combine("/etc/docker/certs.d", address);
                await PrivilegedFile.WriteAsync(await Privileged.DetectAsync(), Path.Combine(installedCa, "ca.crt"), await File.ReadAllTextAsync(ca.CertificateFile));
            }
        }
        if (options.Username is { } user)
        {
            var hashed = await ProcessRunner.RunCheckedAsync(Tools.Require("htpasswd", "apache2-utils"), ["-iBn", user],
                new ProcessOptions { StandardInput = options.Password + "\n" });
            await File.WriteAllTextAsync(Path.Combine(directory, "htpasswd"), hashed.StandardOutput.Trim() + "\n");
            extra += $"\nauth:\n  htpasswd:\n    realm: test-registry\n    path: '{Path.Combine(directory, "htpasswd")}'";
        }
        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: {directory}/data
              delete:
                enabled: true
            http:
              addr: {address}{extra}
            """);
        var command = options.Network is { } inside ? await inside.CommandAsync(binary, "serve", config) : [binary, "serve", config];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new TestRegistry(process, directory, address, options, installedCa);
        using var http = registry.Http();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var answer = await http.GetAsync($"{registry.Scheme}://{address}/v2/");
                if (answer.IsSuccessStatusCode || (options.Username is not null && (int)answer.StatusCode == 401)) return registry;
            }
            catch (HttpRequestException) { }
            if (process.HasExited) break;
            await Task.Delay(100);
        }
        await registry.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start on {registry.Address}");
    }

    /// <summary>A client that trusts this registry's own CA and sends its Basic credentials.</summary>
    HttpClient Http()
    {
        var handler = new HttpClientHandler();
        if (Options.Tls)
        {
            var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, "ca.crt")));
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                if (certificate is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                return chain.Build(certificate);
            };
        }
        var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        if (Options.Username is { } user)
            http.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{Options.Password}")));
        return http;
    }

    /// <summary>A docker client config folder logged in to this registry (password on stdin), for pushes from tests.</summary>
    public async Task<string> LoginAsync()
    {
        var config = Path.Combine(directory, "docker-config");
        Directory.CreateDirectory(config);
        await ProcessRunner.RunCheckedAsync(Tools.Require("docker", "docker.io"), ["--config", config, "login", "--username", Options.Username!, "--password-stdin", Address],
            new ProcessOptions { StandardInput = Options.Password });
        return config;
    }

    /// <summary>The registry's own answer: the Docker-Content-Digest of the tag's manifest, or null when it has none.</summary>
    public async Task<string?> ManifestDigestAsync(string repository, string tag)
    {
        using var http = Http();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"{Scheme}://{Address}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
    }

    /// <summary>Puts the manifest <paramref name="digest"/> of <paramref name="from"/> into repository <paramref name="to"/>
    /// as <paramref name="tag"/>, its blobs mounted across repositories (the registry API's <c>mount</c>; no layer is
    /// uploaded, no engine involved). The same bytes, so the same digest, under another name; returns that digest.</summary>
    public async Task<string> CopyAsync(string from, string digest, string to, string tag)
    {
        using var http = Http();
        using var get = new HttpRequestMessage(HttpMethod.Get, $"{Scheme}://{Address}/v2/{from}/manifests/{digest}");
        get.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        get.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var got = await http.SendAsync(get);
        got.EnsureSuccessStatusCode();
        var manifest = await got.Content.ReadAsByteArrayAsync();
        var root = System.Text.Json.JsonDocument.Parse(manifest).RootElement;
        foreach (var blob in root.GetProperty("layers").EnumerateArray().Append(root.GetProperty("config")))
        {
            var blobDigest = blob.GetProperty("digest").GetString();
            using var mount = await http.PostAsync($"{Scheme}://{Address}/v2/{to}/blobs/uploads/?mount={blobDigest}&from={from}", null);
            if (mount.StatusCode != System.Net.HttpStatusCode.Created)
                throw new InvalidOperationException($"{Address} did not mount {blobDigest} from {from} into {to}: HTTP {(int)mount.StatusCode}");
        }
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = got.Content.Headers.ContentType;
        using var put = await http.PutAsync($"{Scheme}://{Address}/v2/{to}/manifests/{tag}", content);
        put.EnsureSuccessStatusCode();
        return put.Headers.GetValues("Docker-Content-Digest").First();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        if (installedCa is not null && Directory.Exists(installedCa))
            await Privileged.RunAsync("removing a test CA from /etc/docker/certs.d", "rm", "-rf", installedCa);
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
