using Delivery.Core;
using Delivery.Provisioning;

namespace Delivery.Docker.Tests.Integration.Registries;

/// <summary>
/// The registry client against real docker-registry processes on loopback: TLS with a CA the test makes and installs
/// where the engine looks (/etc/docker/certs.d), htpasswd, Docker tokens from a test issuer, an untrusted CA, and a
/// registry that does not answer. The engine pushes; the client reads digests and adds tags without moving layers.
/// </summary>
[Collection(DockerRegistryCollection.Name)]
public sealed class RegistryClientTests(DockerFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    const string User = "ci-user";
    const string Password = "s3cret-Pa55word!";

    async Task<string> PushTinyImageAsync(string repository, string tag, RegistryAuth auth)
    {
        var archive = new RootFilesystemArchive();
        archive.AddText("/hello.txt", $"hello from {fixture.Prefix} {Guid.NewGuid()}\n");
        using var tar = new MemoryStream();
        archive.WriteTo(tar);
        tar.Position = 0;
        fixture.Track($"{repository}:{tag}");
        await fixture.Docker.ImportImageAsync(tar, repository, tag, ["LABEL delivery.test=tiny"]);
        return await fixture.Docker.PushImageAsync(repository, tag, auth);
    }

    [Fact]
    public async Task Over_TLS_with_htpasswd_the_release_digest_resolves_and_promotion_tags_keep_the_manifest_bytes()
    {
        var dir = fixture.NewTempDir("tls-htpasswd");
        var ca = TestCertificates.CreateAuthority(dir, "delivery-test-ca");
        var certificate = TestCertificates.CreateServer(dir, ca);
        await using var registry = await RegistryServer.StartAsync(dir, new RegistryAuthConfig.Htpasswd(User, Password), certificate, installCa: ca);
        var path = fixture.Name("webapp");
        var auth = new RegistryAuth(User, Password, registry.Address);
        var digest = await PushTinyImageAsync($"{registry.Address}/{path}", "1.4.0", auth);

        using var client = new RegistryClient(registry.Address, auth);
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "1.4.0"));
        Assert.Equal("https", client.Scheme);

        var before = await client.GetManifestAsync(path, digest);
        await client.TagAsync(path, digest, ["production", "release-1.4.0"]);

        Assert.Equal(digest, await client.ResolveDigestAsync(path, "production"));
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "release-1.4.0"));
        var after = await client.GetManifestAsync(path, "production");
        Assert.Equal(before.Content, after.Content);
        Assert.Equal(before.MediaType, after.MediaType);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", after.MediaType);
        Assert.Equal(digest, RegistryClient.DigestOf(after.Content));

        // A --promote-version that was never pushed.
        Assert.Null(await client.GetDigestAsync(path, "9.9.9"));
        var missing = await Assert.ThrowsAsync<DeliveryException>(() => client.ResolveDigestAsync(path, "9.9.9"));
        Assert.Equal($"{registry.Address}/{path}:9.9.9 is not in the registry (https)", missing.Message);

        // A wrong password, and none at all.
        using var wrong = new RegistryClient(registry.Address, new RegistryAuth(User, "not-the-password", registry.Address));
        var refused = await Assert.ThrowsAsync<DeliveryException>(() => wrong.GetDigestAsync(path, "1.4.0"));
        output.WriteLine(refused.Message);
        Assert.Equal($"Registry {registry.Address} (https) refused the credentials of {User} for repository {path}", refused.Message);
        using var anonymous = new RegistryClient(registry.Address);
        var needs = await Assert.ThrowsAsync<DeliveryException>(() => anonymous.GetDigestAsync(path, "1.4.0"));
        Assert.StartsWith($"Registry {registry.Address} (https) needs credentials for repository {path}: none were found", needs.Message);
        Assert.DoesNotContain(Password, refused.Message + needs.Message);
    }

    [Fact]
    public async Task The_host_pulls_from_a_TLS_htpasswd_registry_only_after_docker_login_or_with_a_credential_helper()
    {
        var dir = fixture.NewTempDir("host-login");
        var ca = TestCertificates.CreateAuthority(dir, "delivery-test-ca");
        await using var registry = await RegistryServer.StartAsync(dir, new RegistryAuthConfig.Htpasswd(User, Password),
            TestCertificates.CreateServer(dir, ca), installCa: ca);
        var repository = $"{registry.Address}/{fixture.Name("pulled")}";
        var digest = await PushTinyImageAsync(repository, "1", new RegistryAuth(User, Password, registry.Address));
        Assert.True(await fixture.RemoveImageAsync($"{repository}:1"));

        var config = fixture.NewTempDir("docker-config");
        var denied = await DockerCli(config, "pull", $"{repository}@{digest}");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("no basic auth credentials", denied.StandardError);

        await HostRegistryLogin.LoginAsync(registry.Address, new RegistryAuth(User, Password, registry.Address), config);
        var pulled = await DockerCli(config, "pull", $"{repository}@{digest}");
        Assert.Equal(0, pulled.ExitCode);
        Assert.Contains(digest, pulled.StandardOutput);
        // What docker login stored is what the build reads back.
        Assert.Equal(User, DockerConfigCredentials.Find(registry.Address, Path.Combine(config, "config.json"))?.Username);

        var wrongLogin = await Assert.ThrowsAsync<DeliveryException>(() =>
            HostRegistryLogin.LoginAsync(registry.Address, new RegistryAuth(User, "wrong-password-never-shown", registry.Address), fixture.NewTempDir("docker-config")));
        output.WriteLine(wrongLogin.Message);
        Assert.StartsWith($"docker login {registry.Address} as {User} failed: ", wrongLogin.Message);
        Assert.DoesNotContain("wrong-password-never-shown", wrongLogin.Message);

        // A credential helper instead: the CLI and the build both ask it.
        var helperDir = fixture.NewTempDir("helper");
        var helperName = "delivery" + fixture.Prefix.Replace("-", "");
        var helper = Path.Combine(helperDir, "docker-credential-" + helperName);
        await File.WriteAllTextAsync(helper, $$"""
            #!/bin/sh
            [ "$1" = get ] || exit 1
            read -r url
            if [ "$url" = "{{registry.Address}}" ]; then printf '{"ServerURL":"%s","Username":"{{User}}","Secret":"{{Password}}"}\n' "$url"; exit 0; fi
            echo "credentials not found in native keychain"; exit 1
            """);
        File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        await using (await TestPath.PrependAsync(helperDir))
        try
        {
            var helperConfig = fixture.NewTempDir("docker-config");
            await HostRegistryLogin.UseCredentialHelperAsync(registry.Address, helperName, Path.Combine(helperConfig, "config.json"));
            var auth = RegistryAuth.Resolve(registry.Address, dockerConfigPath: Path.Combine(helperConfig, "config.json"));
            Assert.Equal(User, auth.Username);
            using var client = new RegistryClient(registry.Address, auth);
            Assert.Equal(digest, await client.ResolveDigestAsync(fixture.Name("pulled"), "1"));
            Assert.True(await fixture.RemoveImageAsync($"{repository}@{digest}"));
            var viaHelper = await DockerCli(helperConfig, "pull", $"{repository}@{digest}");
            Assert.Equal(0, viaHelper.ExitCode);
            // Another registry is not the helper's: no credentials, no error.
            Assert.True(RegistryAuth.Resolve("127.0.0.1:1", dockerConfigPath: Path.Combine(helperConfig, "config.json")).IsAnonymous);
        }
        finally
        {
            await fixture.RemoveImageAsync($"{repository}@{digest}");
        }
    }

    static Task<ProcessResult> DockerCli(string config, params string[] arguments) =>
        ProcessRunner.RunAsync("docker", arguments, new ProcessOptions { Environment = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = config } });

    [Fact]
    public async Task A_registry_signed_by_an_untrusted_CA_is_refused_in_one_line_naming_the_CA_file()
    {
        var dir = fixture.NewTempDir("untrusted");
        var ca = TestCertificates.CreateAuthority(dir, "unknown-ca");
        await using var registry = await RegistryServer.StartAsync(dir, tls: TestCertificates.CreateServer(dir, ca));

        using var client = new RegistryClient(registry.Address);
        var error = await Assert.ThrowsAsync<DeliveryException>(() => client.GetDigestAsync("webapp", "1.0.0"));

        output.WriteLine(error.Message);
        Assert.Equal($"Registry {registry.Address} (https) presents a certificate from an unknown authority: " +
                     $"add the registry's CA certificate as /etc/docker/certs.d/{registry.Address}/ca.crt", error.Message);

        // The wrong CA in that place is named too.
        var other = TestCertificates.CreateAuthority(dir, "other-ca");
        var caDirectory = Path.Combine("/etc/docker/certs.d", registry.Address);
        try
        {
            await PrivilegedFile.WriteAsync(await Privileged.DetectAsync(), Path.Combine(caDirectory, "ca.crt"), await File.ReadAllTextAsync(other.CertificateFile));
            using var again = new RegistryClient(registry.Address);
            var wrongCa = await Assert.ThrowsAsync<DeliveryException>(() => again.GetDigestAsync("webapp", "1.0.0"));
            Assert.Equal($"Registry {registry.Address} (https) presents a certificate that /etc/docker/certs.d/{registry.Address}/ca.crt does not sign", wrongCa.Message);
        }
        finally
        {
            await Privileged.RunAsync("removing a test CA from /etc/docker/certs.d", "rm", "-rf", caDirectory);
        }

        // Listed in the daemon's insecure-registries, it is accepted unverified, as the engine accepts it.
        var daemonJson = Path.Combine(dir, "daemon.json");
        await File.WriteAllTextAsync(daemonJson, $$"""{ "insecure-registries": ["10.0.0.0/8", "{{registry.Address}}"] }""");
        using var insecure = new RegistryClient(registry.Address, options: new RegistryClientOptions { DaemonConfigFile = daemonJson });
        Assert.Null(await insecure.GetDigestAsync("webapp", "1.0.0"));
        Assert.Equal("https", insecure.Scheme);
    }

    [Fact]
    public async Task A_registry_that_does_not_answer_is_named_with_the_scheme_tried()
    {
        var address = $"127.0.0.1:{TestSupport.Tools.FreePort()}";
        using var client = new RegistryClient(address);
        var error = await Assert.ThrowsAsync<DeliveryException>(() => client.GetDigestAsync("webapp", "1.0.0"));
        Assert.Equal($"Registry {address} is not reachable: https://{address}/v2/: Connection refused", error.Message);

        using var remote = new RegistryClient("registry.invalid:5000", options: new RegistryClientOptions { Timeout = TimeSpan.FromSeconds(10) });
        var unresolved = await Assert.ThrowsAsync<DeliveryException>(() => remote.GetDigestAsync("webapp", "1.0.0"));
        output.WriteLine(unresolved.Message);
        Assert.StartsWith("Registry registry.invalid:5000 is not reachable: https://registry.invalid:5000/v2/: ", unresolved.Message);
        Assert.DoesNotContain('\n', unresolved.Message);
    }

    [Fact]
    public async Task A_plain_http_registry_on_loopback_is_used_over_http_as_the_engine_does()
    {
        var dir = fixture.NewTempDir("plain");
        await using var registry = await RegistryServer.StartAsync(dir);
        var path = fixture.Name("plain");
        var digest = await PushTinyImageAsync($"{registry.Address}/{path}", "2.0.0", RegistryAuth.Anonymous);

        using var client = new RegistryClient(registry.Address);
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "2.0.0"));
        Assert.Equal("http", client.Scheme);
    }

    [Fact]
    public async Task The_token_flow_asks_the_realm_for_exactly_the_scopes_each_call_needs()
    {
        var dir = fixture.NewTempDir("token");
        var signer = TestCertificates.CreateAuthority(dir, "token-signer");
        var ca = TestCertificates.CreateAuthority(dir, "delivery-test-ca");
        using var issuer = new TokenIssuer(signer, User, Password);
        await using var registry = await RegistryServer.StartAsync(dir,
            new RegistryAuthConfig.Token(issuer.Realm, TokenIssuer.Service, TokenIssuer.IssuerName, signer.CertificateFile),
            TestCertificates.CreateServer(dir, ca), installCa: ca);
        var path = fixture.Name("tokened");
        var auth = new RegistryAuth(User, Password, registry.Address);
        var digest = await PushTinyImageAsync($"{registry.Address}/{path}", "3.1.0", auth);
        issuer.Requests.Clear();

        using var client = new RegistryClient(registry.Address, auth);
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "3.1.0"));
        await client.TagAsync(path, digest, ["production"]);
        Assert.Equal(digest, await client.ResolveDigestAsync(path, "production"));

        Assert.Equal("https", client.Scheme);
        string[] expected = [$"repository:{path}:pull", $"repository:{path}:pull,push"];
        Assert.Equal(expected, client.RequestedScopes);
        Assert.Equal(expected.Select(s => (User, s)), issuer.Requests.Select(r => (r.User, r.Scope)));

        using var wrong = new RegistryClient(registry.Address, new RegistryAuth(User, "not-the-password", registry.Address));
        var refused = await Assert.ThrowsAsync<DeliveryException>(() => wrong.GetDigestAsync(path, "3.1.0"));
        Assert.Equal($"Registry {registry.Address} (https) refused the credentials of {User} for repository {path} (token realm answered 401)", refused.Message);

        using var anonymous = new RegistryClient(registry.Address);
        var needs = await Assert.ThrowsAsync<DeliveryException>(() => anonymous.GetDigestAsync(path, "3.1.0"));
        Assert.StartsWith($"Registry {registry.Address} (https) needs credentials for repository {path}", needs.Message);

        issuer.Dispose();
        using var late = new RegistryClient(registry.Address, auth);
        var down = await Assert.ThrowsAsync<DeliveryException>(() => late.GetDigestAsync(path, "3.1.0"));
        Assert.Equal($"Token realm {issuer.Realm} of registry {registry.Address} is not reachable: Connection refused", down.Message);
    }
}
