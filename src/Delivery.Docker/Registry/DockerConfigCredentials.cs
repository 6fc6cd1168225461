using System.Text;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// Reads registry credentials the way the docker CLI does from ~/.docker/config.json: a per-registry credential helper
/// (<c>credHelpers</c>), else the default store (<c>credsStore</c>), else the <c>auths</c> section.
/// </summary>
public static class DockerConfigCredentials
{
    /// <summary>$DOCKER_CONFIG/config.json, else ~/.docker/config.json.</summary>
    public static string DefaultConfigPath
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
            if (string.IsNullOrEmpty(dir))
                dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
            return Path.Combine(dir, "config.json");
        }
    }

    /// <summary>The stored credentials for a registry (e.g. "127.0.0.1:5000"), or null when the file or entry is absent.</summary>
    public static RegistryAuth? Find(string registry, string? configPath = null)
    {
        configPath ??= DefaultConfigPath;
        if (!File.Exists(configPath)) return null;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(configPath));
        }
        catch (JsonException ex)
        {
            // The message names a position, never the file's content.
            throw new DeliveryException($"Docker config {configPath} is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            var wanted = NormalizeRegistry(registry);
            var root = document.RootElement;

            if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object)
                foreach (var entry in helpers.EnumerateObject())
                    if (NormalizeRegistry(entry.Name) == wanted && entry.Value.GetString() is { Length: > 0 } helper)
                        return CredentialHelper.Get(helper, entry.Name, registry);
            if (StringOrNull(root, "credsStore") is { Length: > 0 } store &&
                CredentialHelper.Get(store, ServerUrlFor(root, wanted) ?? registry, registry, optional: true) is { } stored)
                return stored;

            if (!root.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
                return null;
            foreach (var entry in auths.EnumerateObject())
            {
                if (NormalizeRegistry(entry.Name) != wanted || entry.Value.ValueKind != JsonValueKind.Object) continue;
                var (username, password) = ReadEntry(entry.Value, registry, configPath);
                if (username is null && password is null) continue;
                return new RegistryAuth(username, password, registry);
            }
            return null;
        }
    }

    static (string? Username, string? Password) ReadEntry(JsonElement entry, string registry, string configPath)
    {
        if (entry.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.String && auth.GetString() is { Length: > 0 } encoded)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new DeliveryException($"Docker config {configPath}: the 'auth' entry for {registry} is not valid base64 of user:password");
            }
            var colon = decoded.IndexOf(':');
            if (colon <= 0)
                throw new DeliveryException($"Docker config {configPath}: the 'auth' entry for {registry} is not of the form user:password");
            return (decoded[..colon], decoded[(colon + 1)..]);
        }
        return (StringOrNull(entry, "username"), StringOrNull(entry, "password"));
    }

    /// <summary>The key docker login used in <c>auths</c> for the registry (the helper's server URL), if any.</summary>
    static string? ServerUrlFor(JsonElement root, string wanted) =>
        root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object
            ? auths.EnumerateObject().Select(e => e.Name).FirstOrDefault(n => NormalizeRegistry(n) == wanted)
            : null;

    static string? StringOrNull(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>"https://index.docker.io/v1/" → "index.docker.io"; "http://127.0.0.1:5000" → "127.0.0.1:5000".</summary>
    public static string NormalizeRegistry(string address)
    {
        var value = address.Trim();
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) value = value[(scheme + 3)..];
        var slash = value.IndexOf('/');
        if (slash >= 0) value = value[..slash];
        value = value.ToLowerInvariant();
        return value is "docker.io" or "registry-1.docker.io" ? "index.docker.io" : value;
    }
}
