using Amazon.Runtime;
using Aws.TestEndpoint;
using Delivery.Core;
using Delivery.Docker;
using Delivery.Hosts;
using Xunit.Abstractions;

namespace Delivery.Aws.Tests;

/// <summary>The shipped iam/ policies, enforced by the AWS test endpoint for every request, as AWS enforces them.</summary>
public sealed class IamEnforcementTests(IamEnforcementTests.Roles roles, ITestOutputHelper output) : IClassFixture<IamEnforcementTests.Roles>
{
    /// <summary>One endpoint where each access key is one of the shipped roles.</summary>
    public sealed class Roles : IAsyncLifetime
    {
        public static readonly string[] Names = ["push-role", "staging-deploy-role", "production-deploy-role", "instance-role"];
        public AwsTestEndpoint Endpoint { get; private set; } = null!;
        public Dictionary<string, IamPolicy> Policies { get; } = [];

        public static string Key(string role) => $"AKIA{role.Replace("-", "").ToUpperInvariant()}".PadRight(20, '0')[..20];
        const string Secret = "role/secret/for/the/iam/enforcement/tests";

        public async Task InitializeAsync()
        {
            Endpoint = await AwsTestEndpoint.StartAsync(secretKeys: Names.ToDictionary(Key, _ => Secret));
            var variables = new Dictionary<string, string> { ["Region"] = Endpoint.Region, ["Account"] = AwsTestEndpoint.Account, ["GitHubRepository"] = "owner/repo" };
            foreach (var role in Names)
            {
                var policy = new IamPolicy([IamPolicyTests.PolicyText($"{role}-policy.json")], variables);
                Policies[role] = policy;
                Endpoint.Iam.Assign(Key(role), role, policy);
            }
        }

        public AwsSettings Settings(string role) => new()
        {
            Region = Endpoint.Region, Credentials = new BasicAWSCredentials(Key(role), Secret),
            SsmEndpoint = Endpoint.Url, EcrEndpoint = Endpoint.Url, MaxAttempts = 1,
        };

        public async Task DisposeAsync() => await Endpoint.DisposeAsync();
    }

    static int counter;

    FakeInstance Instance(string environment)
    {
        var instance = roles.Endpoint.AddInstance($"i-0fa{Interlocked.Increment(ref counter):D14}");
        instance.Tags["App"] = "webapp";
        instance.Tags["Environment"] = environment;
        return instance;
    }

    static readonly FleetOptions Fast = new() { PollInterval = TimeSpan.FromMilliseconds(100), DeliveryTimeoutSeconds = 30, ExecutionTimeoutSeconds = 30 };

    [Fact]
    public async Task The_staging_role_cannot_send_a_command_to_a_production_tagged_instance()
    {
        var production = Instance("production");
        using var ssm = new SsmClient(roles.Settings("staging-deploy-role"));
        var before = roles.Endpoint.Invocations.Count;

        var error = await Assert.ThrowsAsync<AwsException>(() => ssm.SendCommandAsync(new SsmCommand { Targets = SsmTargets.Instances(production.Id), Commands = ["id"] }));

        Assert.Equal($"SSM SendCommand failed: AccessDeniedException: User: arn:aws:sts::{AwsTestEndpoint.Account}:assumed-role/staging-deploy-role/test-session " +
                     $"is not authorized to perform: ssm:SendCommand on resource: arn:aws:ec2:{roles.Endpoint.Region}:{AwsTestEndpoint.Account}:instance/{production.Id} " +
                     "because no identity-based policy allows the ssm:SendCommand action", error.Message);
        Assert.Equal(before, roles.Endpoint.Invocations.Count);
    }

    [Theory]
    [InlineData("staging", "production")]
    [InlineData("production", "staging")]
    public async Task A_deploy_role_runs_its_own_environment_s_deploy_and_record_but_not_the_other_s(string environment, string other)
    {
        var mine = Instance(environment);
        using var ssm = new SsmClient(roles.Settings($"{environment}-deploy-role"));
        var env = environment == "staging" ? DeployEnvironment.Staging : DeployEnvironment.Production;
        var records = new ReleaseParameters(ssm, "webapp");
        var release = new FleetRelease("1.0.0", "sha256:" + new string('c', 64), "r/webapp@sha256:" + new string('c', 64), "abc1234", "2026-12-01T00:00:00Z", "t", [mine.Id]);

        roles.Endpoint.RemoveParameter(records.Name(env));
        var runs = await new SsmFleet(ssm, SsmTargets.Instances(mine.Id), Fast).RunAsync("echo deployed", "Deploy");
        await records.PutAsync(env, release);
        await records.PutAsync(env, release with { Version = "1.0.1" });
        var history = await records.HistoryAsync(env);
        var id = await ssm.SendCommandAsync(new SsmCommand { Targets = SsmTargets.Instances(mine.Id), Commands = ["sleep 30"] });
        await ssm.CancelCommandAsync(id);
        Assert.True(await ssm.DeleteParameterAsync(records.Name(env)));

        Assert.Equal("Success", Assert.Single(runs).Status);
        Assert.Equal(["1.0.0", "1.0.1"], history.Select(h => h.Release.Version));
        var otherEnv = other == "staging" ? DeployEnvironment.Staging : DeployEnvironment.Production;
        var write = await Assert.ThrowsAsync<AwsException>(() => records.PutAsync(otherEnv, release));
        Assert.Equal("AccessDeniedException", write.ErrorCode);
        var send = await Assert.ThrowsAsync<AwsException>(() => new SsmFleet(ssm, SsmTargets.Instances(Instance(other).Id), Fast).RunAsync("id", "Deploy"));
        Assert.Equal("AccessDeniedException", send.ErrorCode);
        if (environment == "production")
        {
            // The promotion reads staging's record (read only): no AccessDeniedException.
            _ = await records.GetAsync(DeployEnvironment.Staging);
        }
    }

    [Fact]
    public async Task The_push_role_signs_in_to_ECR_and_creates_the_repository_but_has_no_SSM()
    {
        using var ecr = new EcrClient(roles.Settings("push-role"));
        using var ssm = new SsmClient(roles.Settings("push-role"));

        await ecr.GetAuthorizationTokenAsync();
        await ecr.EnsureRepositoryAsync(AwsTestEndpoint.Account, "webapp", immutableTags: false);
        var other = await Assert.ThrowsAsync<AwsException>(() => ecr.EnsureRepositoryAsync(AwsTestEndpoint.Account, "another-app", immutableTags: false));
        var send = await Assert.ThrowsAsync<AwsException>(() => ssm.SendCommandAsync(new SsmCommand { Targets = SsmTargets.Instances(Instance("staging").Id), Commands = ["id"] }));

        Assert.Equal("AccessDeniedException", other.ErrorCode);
        Assert.Equal("AccessDeniedException", send.ErrorCode);
    }

    /// <summary>The registry login for the instances (RegistryCredentialParameters, registry.sh): the deploy role writes its
    /// own environment's SecureString under a customer managed key; the instance role reads it decrypted, through SSM
    /// only, and reads nothing else.</summary>
    [Fact]
    public async Task The_registry_login_is_written_by_its_deploy_role_and_read_decrypted_only_by_the_instance_role()
    {
        var key = roles.Endpoint.CreateKmsKey();
        using var staging = new SsmClient(roles.Settings("staging-deploy-role"));
        using var production = new SsmClient(roles.Settings("production-deploy-role"));
        var credential = new RegistryCredential("registry.example:5443", "robot", "s3cr3t:with-colon");
        var access = await new RegistryCredentialParameters(staging, "webapp", key).PutAsync(DeployEnvironment.Staging, credential);
        Assert.Equal(new RegistryAccess("registry.example:5443", "/webapp/staging/registry-auth", roles.Endpoint.Region), access);
        // Encrypting under another name, or another environment's login, is refused (kms:EncryptionContext, the parameter path).
        var otherName = await Assert.ThrowsAsync<AwsException>(() => staging.PutParameterAsync("/webapp/staging/other-secret", "x", "SecureString", true, keyId: key));
        Assert.Contains("kms:Encrypt", otherName.Message);
        var otherEnvironment = await Assert.ThrowsAsync<AwsException>(() => new RegistryCredentialParameters(production, "webapp", key).PutAsync(DeployEnvironment.Staging, credential));
        Assert.Equal("AccessDeniedException", otherEnvironment.ErrorCode);

        using var instance = new Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementClient(
            new BasicAWSCredentials(Roles.Key("instance-role"), "role/secret/for/the/iam/enforcement/tests"),
            new Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementConfig { ServiceURL = roles.Endpoint.Url.ToString(), AuthenticationRegion = roles.Endpoint.Region, MaxErrorRetry = 0 });
        var decrypted = await instance.GetParameterAsync(new() { Name = access.CredentialParameter, WithDecryption = true });
        var encrypted = await instance.GetParameterAsync(new() { Name = access.CredentialParameter });
        Assert.Equal("robot:s3cr3t:with-colon", decrypted.Parameter.Value);
        Assert.Equal("SecureString", encrypted.Parameter.Type.Value);
        Assert.DoesNotContain("s3cr3t", encrypted.Parameter.Value);
        Assert.True(Convert.TryFromBase64String(encrypted.Parameter.Value, new byte[256], out _), encrypted.Parameter.Value);
        // The release record is the build's to read, not the instances'.
        var record = await Assert.ThrowsAsync<Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementException>(() => instance.GetParameterAsync(new() { Name = "/webapp/staging/release" }));
        Assert.Equal("AccessDeniedException", record.ErrorCode);

        // The deploy role may read its parameters, but not decrypt the login: the customer managed key is the control.
        using var deployRole = new Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementClient(
            new BasicAWSCredentials(Roles.Key("staging-deploy-role"), "role/secret/for/the/iam/enforcement/tests"),
            new Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementConfig { ServiceURL = roles.Endpoint.Url.ToString(), AuthenticationRegion = roles.Endpoint.Region, MaxErrorRetry = 0 });
        Assert.Equal(encrypted.Parameter.Value, (await deployRole.GetParameterAsync(new() { Name = access.CredentialParameter })).Parameter.Value);
        var denied = await Assert.ThrowsAsync<Amazon.SimpleSystemsManagement.AmazonSimpleSystemsManagementException>(
            () => deployRole.GetParameterAsync(new() { Name = access.CredentialParameter, WithDecryption = true }));
        Assert.Equal("AccessDeniedException", denied.ErrorCode);
        Assert.Contains($"is not authorized to perform: kms:Decrypt on resource: {key} ", denied.Message);
    }

    [Fact]
    public void An_explicit_deny_beats_an_allow_and_an_unknown_condition_key_grants_nothing()
    {
        var allow = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}""";
        var deny = """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ssm:SendCommand","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"aws:ResourceTag/Environment":"production"}}}]}""";
        var odd = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/Team":"ops"}}}]}""";
        var policy = new IamPolicy([allow, deny], new Dictionary<string, string>());
        var production = new IamResource("arn:aws:ec2:eu-west-1:123456789012:instance/i-1", new Dictionary<string, string> { ["Environment"] = "production" });
        var staging = new IamResource("arn:aws:ec2:eu-west-1:123456789012:instance/i-2", new Dictionary<string, string> { ["Environment"] = "staging" });

        Assert.Equal(("arn:aws:ec2:eu-west-1:123456789012:instance/i-1", true), policy.Refuses("ssm:SendCommand", [staging, production], "eu-west-1"));
        Assert.Null(policy.Refuses("ssm:SendCommand", [staging], "eu-west-1"));
        Assert.Null(policy.Refuses("SSM:sendcommand", [staging], "eu-west-1")); // actions are case-insensitive
        Assert.Equal(("*", false), new IamPolicy([odd], new Dictionary<string, string>()).Refuses("ssm:GetParameter", [new IamResource("*")], "eu-west-1"));
    }

    /// <summary>Every action a shipped role allows, less those an enforced request above used. Runs after the
    /// others in this class (xunit runs a class's tests one at a time; it repeats their flows if run alone).</summary>
    [Fact]
    public async Task Zz_every_allowed_action_is_used_by_a_test_or_named_here_with_why()
    {
        await The_push_role_signs_in_to_ECR_and_creates_the_repository_but_has_no_SSM();
        foreach (var (mine, other) in new[] { ("staging", "production"), ("production", "staging") })
            await A_deploy_role_runs_its_own_environment_s_deploy_and_record_but_not_the_other_s(mine, other);
        await The_registry_login_is_written_by_its_deploy_role_and_read_decrypted_only_by_the_instance_role();

        var allowed = roles.Policies.Values.SelectMany(p => p.AllowedActions).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unused = allowed.Where(a => !roles.Endpoint.Iam.UsedActions.ContainsKey(a)).Order(StringComparer.Ordinal).ToList();
        output.WriteLine($"allowed and never used by an enforced test: {string.Join(", ", unused)}");

        // The Docker engine calls these through the registry's HTTP API during docker push, not through the ECR JSON
        // API the endpoint authorizes; BatchGetImage/PutImage (promotion tags, and the deploy roles' manifest read for
        // `gh attestation verify` on GitHub) need a backing registry (EcrImageTests).
        Assert.Equal(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:GetDownloadUrlForLayer",
                      "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"], unused);
    }
}
