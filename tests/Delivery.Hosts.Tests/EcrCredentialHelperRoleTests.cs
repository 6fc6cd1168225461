using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Hosts.Tests;

/// <summary>
/// The playbook's ecr_credential_helper role, run for real by ansible on a docker config in a temp folder (its
/// package task skipped): only the ECR registry goes to docker-credential-ecr-login (credHelpers), so pulls from any
/// other registry keep their own credentials, and a credsStore of ecr-login that older versions set, which sent every
/// registry to ECR, is dropped.
/// </summary>
public sealed class EcrCredentialHelperRoleTests : IDisposable
{
    const string Ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    readonly string dir = Directory.CreateTempSubdirectory("hdt-ecr-role-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static string Roles([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "ansible", "roles"));

    async Task<JsonObject> Apply(string? existing)
    {
        var config = Directory.CreateDirectory(Path.Combine(dir, "docker")).FullName;
        if (existing is not null) await File.WriteAllTextAsync(Path.Combine(config, "config.json"), existing);
        var playbook = Path.Combine(dir, "play.yml");
        await File.WriteAllTextAsync(playbook, "- hosts: all\n  gather_facts: false\n  roles: [ecr_credential_helper]\n");
        var run = await ProcessRunner.RunAsync(Tools.Require("ansible-playbook", "ansible-core"),
            ["-c", "local", "-i", "localhost,", playbook, "--skip-tags", "packages", "-e", $"webapp_ecr_registry={Ecr}", "-e", $"webapp_docker_config_dir={config}"],
            new ProcessOptions { Environment = new Dictionary<string, string?> { ["ANSIBLE_ROLES_PATH"] = Roles(), ["ANSIBLE_NOCOLOR"] = "1", ["ANSIBLE_LOCAL_TEMP"] = Path.Combine(dir, "tmp") } });
        Assert.True(run.Succeeded, run.StandardOutput + run.StandardError);
        return (JsonObject)JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(config, "config.json")))!;
    }

    /// <summary>The same JSON, whatever the key order (ansible's to_nice_json sorts keys).</summary>
    static void Same(string expected, JsonObject actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual.ToJsonString()}");

    [Fact]
    public async Task Only_the_ECR_registry_uses_the_helper_and_other_registries_keep_their_credentials()
    {
        var config = await Apply("""{"auths":{"registry.example:5000":{"auth":"dTpw"}},"credsStore":"ecr-login","credHelpers":{"ghcr.io":"gh"}}""");

        Same("""{"auths":{"registry.example:5000":{"auth":"dTpw"}},"credHelpers":{"ghcr.io":"gh","123456789012.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login"}}""", config);
    }

    [Fact]
    public async Task Another_credential_store_is_kept_and_a_missing_config_is_created()
    {
        Same("""{"credsStore":"pass","credHelpers":{"123456789012.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login"}}""", await Apply("""{"credsStore":"pass"}"""));
        File.Delete(Path.Combine(dir, "docker", "config.json"));
        Same("""{"credHelpers":{"123456789012.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login"}}""", await Apply(null));
    }
}
