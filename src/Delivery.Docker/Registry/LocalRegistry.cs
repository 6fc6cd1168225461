using System.Net;
using System.Text;
using Delivery.Core;

namespace Delivery.Docker;

public sealed record LocalRegistryOptions
{
    /// <summary>host:port to listen on.</summary>
    public string Address { get; init; } = "127.0.0.1:5000";
    /// <summary>The registry keeps its config, storage, log and pid file under &lt;StateDirectory&gt;/registry.</summary>
    public required string StateDirectory { get; init; }
    /// <summary>With a username and password the registry requires basic auth (bcrypt htpasswd).</summary>
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string Executable { get; init; } = "/usr/bin/docker-registry";
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);

    // Keeps the password out of the record's generated ToString().
    bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Address = {Address}, StateDirectory = {StateDirectory}, Username = {Username}, Password = {(Password is null ? "null" : "***")}");
        return true;
    }
}

/// <summary>
/// A Debian docker-registry (distribution) serving on this machine for the local pipeline: started detached so it
/// outlives the build, with its pid in a file so a later build can stop it.
/// </summary>
public sealed class LocalRegistry(LocalRegistryOptions options)
{
    static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(3) };

    public string Address => options.Address;
    public string Directory => Path.Combine(Path.GetFullPath(options.StateDirectory), "registry");
    public string ConfigFile => Path.Combine(Directory, "config.yml");
    public string PidFile => Path.Combine(Directory, "registry.pid");
    public string LogFile => Path.Combine(Directory, "registry.log");
    public string StorageDirectory => Path.Combine(Directory, "data");
    string HtpasswdFile => Path.Combine(Directory, "htpasswd");

    /// <summary>True when something at the address answers like a registry (/v2/ → 200, or 401 when auth is on).</summary>
    public Task<bool> IsReachableAsync(CancellationToken cancellationToken = default) => IsRegistryAt(Address, cancellationToken);

    public static async Task<bool> IsRegistryAt(string address, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await Probe.GetAsync($"http://{address}/v2/", cancellationToken);
            return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized &&
                   response.Headers.Contains("Docker-Distribution-Api-Version");
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Starts the registry unless one already answers at the address. True when it was started now.</summary>
    public async Task<bool> EnsureRunningAsync(Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        if (await IsReachableAsync(cancellationToken))
        {
            log?.Invoke($"Registry at {Address} is already running");
            return false;
        }
        if (!File.Exists(options.Executable))
            throw new DeliveryException($"{options.Executable} is missing: install the registry (apt-get install -y docker-registry)");
        if (string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password))
            throw new DeliveryException("Registry credentials need both a username and a password");

        // A registry we started earlier for this state directory but that no longer answers here.
        await StopAsync(cancellationToken);

        System.IO.Directory.CreateDirectory(StorageDirectory);
        var withAuth = !string.IsNullOrEmpty(options.Username);
        if (withAuth) await WriteHtpasswdAsync(options.Username!, options.Password!, cancellationToken);
        await File.WriteAllTextAsync(ConfigFile, RenderConfig(withAuth), cancellationToken);

        // setsid detaches it from this process's session; the shell records its own pid, then becomes the registry.
        await ProcessRunner.RunCheckedAsync("setsid",
        [
            "-f", "/bin/sh", "-c", "echo $$ > \"$1\"; exec \"$2\" serve \"$3\" >>\"$4\" 2>&1 </dev/null",
            "registry", PidFile, options.Executable, ConfigFile, LogFile,
        ], cancellationToken: cancellationToken);

        var deadline = DateTime.UtcNow + options.StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await IsReachableAsync(cancellationToken))
            {
                log?.Invoke($"Started registry at {Address} (pid {ReadPid()}, storage {StorageDirectory}{(withAuth ? ", basic auth" : "")})");
                return true;
            }
            var pid = ReadPid();
            if (pid is not null && !IsAlive(pid.Value)) break;
            await Task.Delay(100, cancellationToken);
        }
        var tail = LogTail();
        await StopAsync(cancellationToken);
        throw new DeliveryException($"Registry at {Address} did not start within {options.StartTimeout.TotalSeconds:0} s: {tail}");
    }

    /// <summary>Stops the registry recorded in the pid file (SIGTERM, then SIGKILL). Nothing to do when none runs.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var pid = ReadPid();
        if (pid is null) return;
        if (IsAlive(pid.Value) && IsRegistryProcess(pid.Value))
        {
            await ProcessRunner.RunAsync("kill", ["-TERM", pid.Value.ToString()], cancellationToken: cancellationToken);
            for (var i = 0; i < 100 && IsAlive(pid.Value); i++) await Task.Delay(50, cancellationToken);
            if (IsAlive(pid.Value)) await ProcessRunner.RunAsync("kill", ["-KILL", pid.Value.ToString()], cancellationToken: cancellationToken);
        }
        File.Delete(PidFile);
    }

    string RenderConfig(bool withAuth)
    {
        var config = new StringBuilder()
            .AppendLine("version: 0.1")
            .AppendLine("log:")
            .AppendLine("  level: info")
            .AppendLine("storage:")
            .AppendLine("  filesystem:")
            .AppendLine($"    rootdirectory: {Quote(StorageDirectory)}")
            .AppendLine("  delete:")
            .AppendLine("    enabled: true")
            .AppendLine("http:")
            .AppendLine($"  addr: {Quote(Address)}")
            // Only signs upload state between requests of this one instance.
            .AppendLine($"  secret: {Quote(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)))}")
            .AppendLine("  headers:")
            .AppendLine("    X-Content-Type-Options: [nosniff]");
        if (withAuth)
            config.AppendLine("auth:")
                .AppendLine("  htpasswd:")
                .AppendLine("    realm: delivery-registry")
                .AppendLine($"    path: {Quote(HtpasswdFile)}");
        return config.ToString();
    }

    static string Quote(string value) => "'" + value.Replace("'", "''") + "'";

    async Task WriteHtpasswdAsync(string username, string password, CancellationToken cancellationToken)
    {
        if (username.Contains(':') || username.Any(char.IsWhiteSpace))
            throw new DeliveryException($"Registry username '{username}' must not contain ':' or spaces");
        // -i reads the password from stdin, so it never appears on a command line.
        var result = await ProcessRunner.RunAsync("htpasswd", ["-iBn", username],
            new ProcessOptions { StandardInput = password + "\n" }, cancellationToken);
        var line = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (!result.Succeeded || line is null || !line.StartsWith(username + ":$2", StringComparison.Ordinal))
            throw new DeliveryException($"htpasswd could not hash the registry password (exit {result.ExitCode}); is apache2-utils installed?");
        await File.WriteAllTextAsync(HtpasswdFile, line + "\n", cancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(HtpasswdFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    int? ReadPid() =>
        File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) && pid > 0 ? pid : null;

    string LogTail()
    {
        if (!File.Exists(LogFile)) return "no log written";
        var lines = File.ReadAllLines(LogFile).Where(l => l.Trim().Length > 0).TakeLast(2);
        return string.Join(" | ", lines);
    }

    /// <summary>Alive and not a zombie (nobody may reap a detached process promptly).</summary>
    internal static bool IsAlive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try
        {
            var text = File.ReadAllText(stat);
            var afterName = text.LastIndexOf(')');
            return afterName < 0 || afterName + 2 >= text.Length || text[afterName + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    static bool IsRegistryProcess(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("registry", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
