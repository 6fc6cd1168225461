using System.Text;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Docker.Tests.Unit;

public sealed class RegistryCredentialsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("docker-config-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string WriteConfig(string json)
    {
        var path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, json);
        return path;
    }

    static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Anonymous_is_the_base64url_of_an_empty_object()
    {
        Assert.Equal("e30=", RegistryAuth.Anonymous.ToHeaderValue());
    }

    [Fact]
    public void The_header_is_base64url_json_with_username_password_and_server()
    {
        // This sample's standard base64 holds both '+' and '/', so the URL-safe alphabet shows.
        var auth = new RegistryAuth("ci", "??~~??", "127.0.0.1:5000");
        var header = auth.ToHeaderValue();

        var standard = Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryAuth.DecodeHeader(header)));
        Assert.True(standard.Contains('+') || standard.Contains('/'), "the sample must exercise the URL-safe alphabet");
        Assert.Equal(standard.Replace('+', '-').Replace('/', '_'), header);
        using var json = JsonDocument.Parse(RegistryAuth.DecodeHeader(header));
        Assert.Equal("ci", json.RootElement.GetProperty("username").GetString());
        Assert.Equal("??~~??", json.RootElement.GetProperty("password").GetString());
        Assert.Equal("127.0.0.1:5000", json.RootElement.GetProperty("serveraddress").GetString());
    }

    [Fact]
    public void ToString_never_shows_the_password()
    {
        var auth = new RegistryAuth("ci", "hunter2", "registry.example");
        Assert.DoesNotContain("hunter2", auth.ToString());
        Assert.Contains("ci", auth.ToString());
    }

    [Fact]
    public void Reads_a_base64_auth_entry_matching_the_registry_with_or_without_scheme()
    {
        var path = WriteConfig($$"""{ "auths": { "http://127.0.0.1:5000/": { "auth": "{{Base64("ci:pa:ss")}}" } } }""");

        var auth = DockerConfigCredentials.Find("127.0.0.1:5000", path);

        Assert.NotNull(auth);
        Assert.Equal("ci", auth.Username);
        using var json = JsonDocument.Parse(RegistryAuth.DecodeHeader(auth.ToHeaderValue()));
        Assert.Equal("pa:ss", json.RootElement.GetProperty("password").GetString());
        Assert.Equal("127.0.0.1:5000", auth.ServerAddress);
    }

    [Fact]
    public void Reads_username_and_password_fields()
    {
        var path = WriteConfig("""{ "auths": { "registry.example:443": { "username": "u", "password": "p" } } }""");
        var auth = DockerConfigCredentials.Find("registry.example:443", path);
        Assert.Equal("u", auth!.Username);
    }

    [Fact]
    public void Docker_hub_aliases_match()
    {
        var path = WriteConfig($$"""{ "auths": { "https://index.docker.io/v1/": { "auth": "{{Base64("hub:pw")}}" } } }""");
        Assert.Equal("hub", DockerConfigCredentials.Find("docker.io", path)!.Username);
    }

    [Fact]
    public void Missing_file_entry_or_helper_only_entries_give_null()
    {
        Assert.Null(DockerConfigCredentials.Find("127.0.0.1:5000", Path.Combine(dir, "absent.json")));
        var path = WriteConfig("""{ "auths": { "other:5000": { "auth": "dTpw" }, "127.0.0.1:5000": {} }, "credsStore": "desktop" }""");
        Assert.Null(DockerConfigCredentials.Find("127.0.0.1:5000", path));
    }

    [Fact]
    public void A_broken_auth_entry_is_a_one_line_error_without_the_secret()
    {
        var path = WriteConfig("""{ "auths": { "127.0.0.1:5000": { "auth": "not base64 !!" } } }""");
        var error = Assert.Throws<DeliveryException>(() => DockerConfigCredentials.Find("127.0.0.1:5000", path));
        Assert.Contains("not valid base64", error.Message);
        Assert.DoesNotContain("not base64 !!", error.Message);

        var noColon = WriteConfig($$"""{ "auths": { "127.0.0.1:5000": { "auth": "{{Base64("justtoken")}}" } } }""");
        Assert.Throws<DeliveryException>(() => DockerConfigCredentials.Find("127.0.0.1:5000", noColon));
    }

    [Fact]
    public void Invalid_json_is_a_one_line_error()
    {
        var path = WriteConfig("{ \"auths\": ");
        var error = Assert.Throws<DeliveryException>(() => DockerConfigCredentials.Find("x", path));
        Assert.Contains("not valid JSON", error.Message);
    }

    string WriteHelper(string name, string script)
    {
        var helper = Path.Combine(dir, "docker-credential-" + name);
        File.WriteAllText(helper, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        return helper;
    }

    RegistryAuth? FindWithHelpers(string registry, string configPath)
    {
        using (TestPath.Prepend(dir)) return DockerConfigCredentials.Find(registry, configPath);
    }

    [Fact]
    public void A_credential_helper_for_the_registry_wins_and_gets_the_server_url_on_stdin()
    {
        var name = "unit" + Guid.NewGuid().ToString("N")[..8];
        WriteHelper(name, """read -r url; [ "$1" = get ] && [ "$url" = "registry.example.com:5443" ] && printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$url" && exit 0; echo "credentials not found in native keychain"; exit 1""");
        var path = WriteConfig($$"""{ "auths": { "registry.example.com:5443": { "auth": "{{Base64("from-auths:pw")}}" } }, "credHelpers": { "registry.example.com:5443": "{{name}}" } }""");

        var auth = FindWithHelpers("registry.example.com:5443", path);

        Assert.Equal("helper-user", auth?.Username);
        Assert.Contains("\"password\":\"helper-secret\"", RegistryAuth.DecodeHeader(auth!.ToHeaderValue()));
        Assert.DoesNotContain("helper-secret", auth.ToString());
    }

    [Fact]
    public void A_credentials_store_is_asked_and_says_not_found_for_other_registries()
    {
        var name = "unit" + Guid.NewGuid().ToString("N")[..8];
        WriteHelper(name, """read -r url; [ "$url" = "https://store.example.com" ] && printf '{"Username":"store-user","Secret":"s"}' && exit 0; echo "credentials not found in native keychain"; exit 1""");
        var path = WriteConfig($$"""{ "auths": { "https://store.example.com": {}, "other:5000": { "auth": "{{Base64("from-auths:pw")}}" } }, "credsStore": "{{name}}" }""");

        Assert.Equal("store-user", FindWithHelpers("store.example.com", path)?.Username);
        Assert.Equal("from-auths", FindWithHelpers("other:5000", path)?.Username);
        Assert.Null(FindWithHelpers("third:5000", path));
    }

    [Fact]
    public void A_missing_or_broken_helper_is_a_one_line_error_without_its_output()
    {
        var path = WriteConfig("""{ "credHelpers": { "r.example.com": "absent-helper-xyz" } }""");
        var missing = Assert.Throws<DeliveryException>(() => FindWithHelpers("r.example.com", path));
        Assert.Equal("Docker config names the credential helper 'absent-helper-xyz' for r.example.com, but docker-credential-absent-helper-xyz is not on PATH", missing.Message);

        var name = "unit" + Guid.NewGuid().ToString("N")[..8];
        WriteHelper(name, "cat >/dev/null; echo 'not json leaked-secret'");
        var broken = WriteConfig($$"""{ "credHelpers": { "r.example.com": "{{name}}" } }""");
        var error = Assert.Throws<DeliveryException>(() => FindWithHelpers("r.example.com", broken));
        Assert.DoesNotContain("leaked-secret", error.Message);
        Assert.Contains("not the helper protocol's JSON", error.Message);
    }

    [Fact]
    public void Resolve_prefers_the_docker_config_then_explicit_credentials_then_anonymous()
    {
        var path = WriteConfig($$"""{ "auths": { "127.0.0.1:5000": { "auth": "{{Base64("from-config:pw")}}" } } }""");

        Assert.Equal("from-config", RegistryAuth.Resolve("127.0.0.1:5000", "explicit", "pw2", path).Username);
        Assert.Equal("explicit", RegistryAuth.Resolve("other:5000", "explicit", "pw2", path).Username);
        Assert.True(RegistryAuth.Resolve("other:5000", null, null, path).IsAnonymous);
    }
}

public sealed class LocalRegistryOptionsTests
{
    [Fact]
    public void The_password_stays_out_of_ToString()
    {
        var options = new LocalRegistryOptions { StateDirectory = "/tmp/x", Username = "ci", Password = "hunter2" };
        Assert.DoesNotContain("hunter2", options.ToString());
        Assert.Contains("Username = ci", options.ToString());
    }
}
