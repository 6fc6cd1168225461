using System.Text.Json;

namespace Delivery.Aws.Tests;

/// <summary>The IAM documents in iam/ parse, grant what the build calls, and stay scoped to this app.</summary>
public sealed class IamPolicyTests
{
    static readonly string Folder = FindIam();

    static string FindIam()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(Path.Combine(dir.FullName, "iam")))
                return Path.Combine(dir.FullName, "iam");
        throw new InvalidOperationException("no iam/ folder above the test assembly");
    }

    sealed record Statement(string Sid, string Effect, string[] Actions, string[] Resources, JsonElement Element);

    static List<Statement> Statements(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, file)));
        Assert.Equal("2012-10-17", doc.RootElement.GetProperty("Version").GetString());
        return doc.RootElement.GetProperty("Statement").EnumerateArray().Select(s => new Statement(
            s.GetProperty("Sid").GetString()!, s.GetProperty("Effect").GetString()!,
            Strings(s, "Action"), Strings(s, "Resource"), s.Clone())).ToList();
    }

    static string[] Strings(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? []
        : v.ValueKind == JsonValueKind.String ? [v.GetString()!]
        : v.EnumerateArray().Select(x => x.GetString()!).ToArray();

    static readonly string[] Roles = ["push-role", "staging-deploy-role", "production-deploy-role"];

    [Fact]
    public void Every_role_has_a_policy_and_a_trust_and_no_wildcard_action()
    {
        foreach (var role in Roles)
        {
            var statements = Statements($"{role}-policy.json");
            Assert.All(statements, st => Assert.Equal("Allow", st.Effect));
            Assert.DoesNotContain(statements.SelectMany(st => st.Actions), a => a.Contains('*') || a.StartsWith("iam:", StringComparison.Ordinal));
            var trust = Statements($"{role}-trust-policy.json").Single();
            Assert.Equal(["sts:AssumeRoleWithWebIdentity"], trust.Actions);
            Assert.EndsWith(":oidc-provider/token.actions.githubusercontent.com", trust.Element.GetProperty("Principal").GetProperty("Federated").GetString());
            Assert.Equal("sts.amazonaws.com", trust.Element.GetProperty("Condition").GetProperty("StringEquals").GetProperty("token.actions.githubusercontent.com:aud").GetString());
        }
        Assert.False(File.Exists(Path.Combine(Folder, "deploy-role-policy.json")), "one role for every job lets any job on main reach production");
    }

    [Fact]
    public void The_push_role_is_ECR_only_and_trusted_from_main_and_release_tags()
    {
        var statements = Statements("push-role-policy.json");
        Assert.All(statements.SelectMany(st => st.Actions), a => Assert.StartsWith("ecr:", a));
        Assert.DoesNotContain("ecr:DescribeImages", statements.SelectMany(st => st.Actions)); // nothing calls it
        var subjects = Strings(Statements("push-role-trust-policy.json").Single().Element.GetProperty("Condition").GetProperty("StringLike"), "token.actions.githubusercontent.com:sub");
        Assert.Equal(["repo:${GitHubRepository}:ref:refs/heads/main", "repo:${GitHubRepository}:ref:refs/tags/*.*.*"], subjects);
    }

    [Theory]
    [InlineData("staging")]
    [InlineData("production")]
    public void A_deploy_role_is_trusted_only_from_its_environment_and_reaches_only_its_instances_and_parameters(string environment)
    {
        var trust = Statements($"{environment}-deploy-role-trust-policy.json").Single();
        Assert.Equal($"repo:${{GitHubRepository}}:environment:{environment}",
            trust.Element.GetProperty("Condition").GetProperty("StringEquals").GetProperty("token.actions.githubusercontent.com:sub").GetString());
        Assert.False(trust.Element.GetProperty("Condition").TryGetProperty("StringLike", out _));

        var statements = Statements($"{environment}-deploy-role-policy.json");
        var instances = statements.Single(st => st.Resources.Any(r => r.Contains(":instance/")));
        Assert.Equal(["ssm:SendCommand"], instances.Actions);
        var tags = instances.Element.GetProperty("Condition").GetProperty("StringEquals");
        Assert.Equal((environment, "webapp"), (tags.GetProperty("ssm:resourceTag/Environment").GetString(), tags.GetProperty("ssm:resourceTag/App").GetString()));
        var writes = statements.Single(st => st.Actions.Contains("ssm:PutParameter"));
        Assert.Equal([$"arn:aws:ssm:${{Region}}:${{Account}}:parameter/webapp/{environment}/*"], writes.Resources);
        // From ECR only what `gh attestation verify oci://…` needs to read the manifest: sign-in and BatchGetImage on the app's repository.
        Assert.Equal(["ecr:BatchGetImage", "ecr:GetAuthorizationToken"],
            statements.SelectMany(st => st.Actions).Where(a => a.StartsWith("ecr:", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(["arn:aws:ecr:${Region}:${Account}:repository/webapp"], statements.Single(st => st.Actions.Contains("ecr:BatchGetImage")).Resources);
    }

    [Fact]
    public void The_instance_role_pulls_only_and_output_rights_come_apart()
    {
        var statements = Statements("instance-role-policy.json");
        var actions = statements.SelectMany(st => st.Actions).ToList();

        // What the instance scripts use: the ECR credential helper's pull, and for any other registry the login the build
        // stores per environment (registry.sh). The release records are read by the build, not the instances.
        Assert.Equal(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer", "kms:Decrypt", "ssm:GetParameter"],
            actions.Order(StringComparer.Ordinal));
        Assert.Equal(["arn:aws:ecr:${Region}:${Account}:repository/webapp"], statements.Single(st => st.Actions.Contains("ecr:BatchGetImage")).Resources);
        var names = new RegistryCredentialParameters(null!, "webapp");
        Assert.Equal(DeployEnvironmentsParameters(names), statements.Single(st => st.Actions.Contains("ssm:GetParameter")).Resources);
        // Decrypt only as Parameter Store does it for those parameters, never straight from KMS.
        var decrypt = statements.Single(st => st.Actions.Contains("kms:Decrypt")).Element.GetProperty("Condition");
        Assert.Equal("ssm.${Region}.amazonaws.com", decrypt.GetProperty("StringEquals").GetProperty("kms:ViaService").GetString());
        Assert.Equal("arn:aws:ssm:${Region}:${Account}:parameter/webapp/*/registry-auth", decrypt.GetProperty("StringLike").GetProperty("kms:EncryptionContext:PARAMETER_ARN").GetString());
        Assert.All(Statements("instance-role-output-s3-policy.json").SelectMany(st => st.Resources), r => Assert.StartsWith("arn:aws:s3:::${OutputBucket}", r));
        Assert.All(Statements("instance-role-output-logs-policy.json").SelectMany(st => st.Resources), r => Assert.Contains(":log-group:${LogGroup}", r));
        using var managed = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "instance-role-managed-policies.json")));
        Assert.Equal(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
            managed.RootElement.GetProperty("ManagedPolicyArns").EnumerateArray().Select(e => e.GetString()!));
        var trust = Statements("instance-trust-policy.json").Single();
        Assert.Equal("ec2.amazonaws.com", trust.Element.GetProperty("Principal").GetProperty("Service").GetString());
    }

    static string[] DeployEnvironmentsParameters(RegistryCredentialParameters names) =>
        [.. Delivery.Hosts.DeployEnvironment.All.Select(e => $"arn:aws:ssm:${{Region}}:${{Account}}:parameter{names.Name(e)}")];

    [Theory]
    [InlineData("staging")]
    [InlineData("production")]
    public void A_deploy_role_encrypts_only_its_own_registry_login_and_only_through_Parameter_Store(string environment)
    {
        var encrypt = Statements($"{environment}-deploy-role-policy.json").Single(st => st.Actions.Contains("kms:Encrypt"));
        var condition = encrypt.Element.GetProperty("Condition").GetProperty("StringEquals");
        Assert.Equal("ssm.${Region}.amazonaws.com", condition.GetProperty("kms:ViaService").GetString());
        var name = new RegistryCredentialParameters(null!, "webapp").Name(Delivery.Hosts.DeployEnvironment.Named(environment));
        Assert.Equal($"arn:aws:ssm:${{Region}}:${{Account}}:parameter{name}", condition.GetProperty("kms:EncryptionContext:PARAMETER_ARN").GetString());
    }

    /// <summary>The iam/ folder, for tests that enforce its documents.</summary>
    public static string PolicyText(string file) => File.ReadAllText(Path.Combine(Folder, file));
}
