using System.Diagnostics;
using Delivery.Core;
using Delivery.Provisioning;

namespace EndToEnd.Tests.Infrastructure;

/// <summary>
/// A second, empty Docker engine (its own data root, exec root, socket and bridge; no iptables), standing in for
/// the fresh runner a later CI job gets. It needs root, as dockerd does: as another user it starts through
/// <c>sudo -n</c> and its socket belongs to the docker group.
/// </summary>
public sealed class PrivateEngine : IAsyncDisposable
{
    readonly string directory;
    readonly string bridge;

    PrivateEngine(string directory, string bridge)
    {
        this.directory = directory;
        this.bridge = bridge;
    }

    public string Host => $"unix://{directory}/docker.sock";

    public static async Task<PrivateEngine> StartAsync()
    {
        Assert.True(await Privileged.DetectAsync() != Privilege.None, "the image hand-off test starts a private dockerd: it needs root or password-less sudo");
        var id = $"e2e{Guid.NewGuid():N}"[..12];
        var engine = new PrivateEngine(Path.Combine("/tmp", id + "-dockerd"), id);
        Directory.CreateDirectory(engine.directory);
        // Its own bridge: with `--bridge none` dockerd deletes the default docker0, which the system engine needs.
        var routes = (await ProcessRunner.RunAsync("ip", ["-4", "route"])).StandardOutput;
        var octet = Enumerable.Range(100, 150).First(n => !routes.Contains($"172.31.{n}."));
        await Privileged.RunCheckedAsync("a bridge for the private dockerd", "ip", "link", "add", "name", engine.bridge, "type", "bridge");
        await Privileged.RunCheckedAsync("a bridge for the private dockerd", "ip", "addr", "add", $"172.31.{octet}.1/24", "dev", engine.bridge);
        await Privileged.RunCheckedAsync("a bridge for the private dockerd", "ip", "link", "set", engine.bridge, "up");
        // setsid: its own session, so signals meant for the test run never reach it.
        var group = Environment.IsPrivilegedProcess ? [] : new[] { "--group", "docker" };
        var command = await Privileged.CommandAsync("a private dockerd", ["setsid", "dockerd", "--data-root", $"{engine.directory}/data",
            "--exec-root", $"{engine.directory}/exec", "--pidfile", $"{engine.directory}/docker.pid", "--host", engine.Host,
            "--bridge", engine.bridge, "--iptables=false", "--ip-masq=false", .. group]);
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command.Skip(1))
            start.ArgumentList.Add(argument);
        var log = new FileStream($"{engine.directory}/dockerd.log", FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var process = Process.Start(start)!;
        _ = process.StandardError.BaseStream.CopyToAsync(log);
        _ = process.StandardOutput.BaseStream.CopyToAsync(log);
        for (var i = 0; i < 150; i++)
        {
            if ((await engine.DockerAsync("version", "--format", "{{.Server.Version}}")).Succeeded) return engine;
            await Task.Delay(200);
        }
        await engine.DisposeAsync();
        throw new InvalidOperationException($"the private dockerd did not come up; see {engine.directory}/dockerd.log");
    }

    public Task<ProcessResult> DockerAsync(params string[] arguments) => ProcessRunner.RunAsync("docker", ["--host", Host, .. arguments]);

    public async ValueTask DisposeAsync()
    {
        var pidFile = $"{directory}/docker.pid";
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid))
        {
            await Privileged.RunAsync("stopping the private dockerd", "kill", "-TERM", pid.ToString());
            for (var i = 0; i < 300 && Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z"); i++)
                await Task.Delay(100);
        }
        await Privileged.RunAsync("removing the private dockerd's bridge", "ip", "link", "del", bridge);
        await Privileged.RunAsync("removing the private dockerd's files", "rm", "-rf", directory);
    }
}

/// <summary>Debian's docker-registry on a free loopback port (engines treat 127.0.0.0/8 as insecure, so plain HTTP works).</summary>
public sealed class LoopbackRegistry : IAsyncDisposable
{
    readonly Process process;
    readonly string directory;

    LoopbackRegistry(Process process, string directory, string address)
    {
        this.process = process;
        this.directory = directory;
        Address = address;
    }

    public string Address { get; }

    public static async Task<LoopbackRegistry> StartAsync()
    {
        Assert.True(File.Exists("/usr/bin/docker-registry"), "the image hand-off test needs /usr/bin/docker-registry (./build.sh Test installs it)");
        var directory = Directory.CreateTempSubdirectory("e2e-registry-").FullName;
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {directory}/data\nhttp:\n  addr: 127.0.0.1:{port}\n");
        var start = new ProcessStartInfo("/usr/bin/docker-registry") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new LoopbackRegistry(process, directory, $"127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 100 && !process.HasExited; i++)
        {
            try
            {
                if ((await http.GetAsync($"http://{registry.Address}/v2/")).IsSuccessStatusCode) return registry;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        await registry.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start on {registry.Address}");
    }

    /// <summary>The registry's own answer: the Docker-Content-Digest of the tag's manifest.</summary>
    public async Task<string?> ManifestDigestAsync(string repository, string tag)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://{Address}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request);
        return response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
    }

    public ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(5000);
        process.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
