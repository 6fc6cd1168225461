using System.Text.Json;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// Gives a host's docker CLI (which pulls during deploys) credentials for a registry: <c>docker login</c> with the
/// password on stdin, never on a command line, or a credential helper entry in its config.json.
/// </summary>
public static class HostRegistryLogin
{
    /// <summary>Runs <c>docker login --username … --password-stdin &lt;registry&gt;</c>; the engine checks the
    /// credentials against the registry before the CLI stores them.</summary>
    public static async Task LoginAsync(string registry, RegistryAuth auth, string? dockerConfigDirectory = null, CancellationToken cancellationToken = default)
    {
        if (auth.IsAnonymous || auth.Username is null || auth.Password is null)
            throw new DeliveryException($"Cannot log the host in to {registry}: a username and a password (or an ECR token) are needed");
        var environment = dockerConfigDirectory is null ? null : new Dictionary<string, string?> { ["DOCKER_CONFIG"] = dockerConfigDirectory };
        var result = await ProcessRunner.RunAsync("docker", ["login", "--username", auth.Username, "--password-stdin", registry],
            new ProcessOptions { StandardInput = auth.Password, Environment = environment }, cancellationToken);
        if (!result.Succeeded)
        {
            var reason = (result.StandardError + "\n" + result.StandardOutput)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .LastOrDefault(l => !l.StartsWith("WARNING", StringComparison.OrdinalIgnoreCase)) ?? $"exit code {result.ExitCode}";
            throw new DeliveryException($"docker login {registry} as {auth.Username} failed: {reason.Replace(auth.Password, "***")}");
        }
    }

    /// <summary>Points the host's docker config at <c>docker-credential-&lt;helper&gt;</c> for the registry (as the
    /// ECR credential helper is set up on EC2), keeping every other entry.</summary>
    public static async Task UseCredentialHelperAsync(string registry, string helper, string? configPath = null, CancellationToken cancellationToken = default)
    {
        if (helper.Length == 0 || helper.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new DeliveryException($"'{helper}' is not a credential helper name (docker-credential-<name>)");
        var program = $"docker-credential-{helper}";
        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, program))))
            throw new DeliveryException($"Credential helper {program} is not on PATH; install it first");
        configPath ??= DockerConfigCredentials.DefaultConfigPath;
        JsonObject config;
        try
        {
            config = File.Exists(configPath) ? JsonNode.Parse(await File.ReadAllTextAsync(configPath, cancellationToken)) as JsonObject ?? [] : [];
        }
        catch (JsonException ex)
        {
            throw new DeliveryException($"Docker config {configPath} is not valid JSON: {ex.Message}");
        }
        if (config["credHelpers"] is not JsonObject helpers) config["credHelpers"] = helpers = [];
        if (helpers[registry]?.GetValue<string>() == helper) return;
        helpers[registry] = helper;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(configPath))!);
        var temporary = configPath + ".tmp";
        await File.WriteAllTextAsync(temporary, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, configPath, overwrite: true);
    }
}
