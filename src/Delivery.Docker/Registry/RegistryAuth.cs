using System.Text;
using System.Text.Json;

namespace Delivery.Docker;

/// <summary>
/// Credentials for one registry, sent to the engine as the X-Registry-Auth header. A class, not a record, so that the
/// password never shows up in a generated ToString().
/// </summary>
public sealed class RegistryAuth
{
    readonly string? password;

    public RegistryAuth(string? username, string? password, string? serverAddress)
    {
        Username = string.IsNullOrEmpty(username) ? null : username;
        this.password = string.IsNullOrEmpty(password) ? null : password;
        ServerAddress = string.IsNullOrEmpty(serverAddress) ? null : serverAddress;
    }

    public static RegistryAuth Anonymous { get; } = new(null, null, null);

    public string? Username { get; }
    public string? ServerAddress { get; }
    public bool IsAnonymous => Username is null && password is null;

    internal string? Password => password;

    /// <summary>base64url of the JSON auth config; "e30=" (<c>{}</c>) when anonymous, which the engine still requires.</summary>
    public string ToHeaderValue()
    {
        var fields = new Dictionary<string, string>();
        if (Username is not null) fields["username"] = Username;
        if (password is not null) fields["password"] = password;
        if (ServerAddress is not null && !IsAnonymous) fields["serveraddress"] = ServerAddress;
        var json = JsonSerializer.SerializeToUtf8Bytes(fields);
        // The engine decodes with Go's base64.URLEncoding: URL-safe alphabet, padding kept.
        return Convert.ToBase64String(json).Replace('+', '-').Replace('/', '_');
    }

    public override string ToString() => IsAnonymous ? "anonymous" : $"{Username} at {ServerAddress ?? "?"} (password hidden)";

    /// <summary>
    /// Credentials for <paramref name="registry"/>: the Docker config's entry when it has one, else the given
    /// username/password, else anonymous.
    /// </summary>
    public static RegistryAuth Resolve(string registry, string? username = null, string? password = null, string? dockerConfigPath = null)
    {
        var fromConfig = DockerConfigCredentials.Find(registry, dockerConfigPath);
        if (fromConfig is not null) return fromConfig;
        if (!string.IsNullOrEmpty(username) || !string.IsNullOrEmpty(password))
            return new RegistryAuth(username, password, registry);
        return Anonymous;
    }

    internal static string HeaderFor(RegistryAuth? auth) => (auth ?? Anonymous).ToHeaderValue();

    /// <summary>For tests: decodes a header value back to its JSON text.</summary>
    public static string DecodeHeader(string headerValue) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(headerValue.Replace('-', '+').Replace('_', '/')));
}
