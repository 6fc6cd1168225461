using Aws.TestEndpoint;
using Delivery.Core;
using Delivery.Hosts;

namespace Delivery.Aws.Tests;

/// <summary>
/// The registry login on a fleet, below the build: the deployer stores it through the fleet site, the pull check runs
/// on the instance with the instance's own AWS CLI and role, and a role that may not read it stops the deploy with the
/// typed reason (RegistryFailure.CredentialParameter) and the IAM fix, before any deploy script is sent.
/// </summary>
public sealed class RegistryLoginTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    static string Aws() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "aws")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("'aws' is required by this test but is not installed: apt-get install awscli");

    [Fact]
    public async Task An_instance_role_that_cannot_read_the_login_stops_the_deploy_before_any_switch_naming_the_IAM_fix()
    {
        var root = Directory.CreateTempSubdirectory("registry-login-").FullName;
        try
        {
            var instance = fixture.Endpoint.AddInstance($"i-0{Guid.NewGuid():N}"[..19]);
            File.WriteAllText(Path.Combine(root, "host.env"), $"state_root={root}/state\napp=rlt{instance.Id[^6..]}\n");
            instance.Environment["WEBAPP_HOST_CONFIG"] = Path.Combine(root, "host.env");
            instance.Environment["PATH"] = $"{Path.GetDirectoryName(Aws())}:{AwsTestEndpoint.AgentPath}";
            instance.Environment["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.InstanceAccessKey;
            instance.Environment["AWS_SECRET_ACCESS_KEY"] = AwsTestEndpoint.InstanceSecretKey;
            instance.Environment["AWS_SESSION_TOKEN"] = AwsTestEndpoint.InstanceSessionToken;
            instance.Environment["AWS_ENDPOINT_URL_SSM"] = fixture.Endpoint.Url.ToString();
            instance.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
            // An instance role with only the ECR pull statements: no registry login for it.
            fixture.Endpoint.Iam.Assign(AwsTestEndpoint.InstanceAccessKey, "ecr-only-instance", new IamPolicy(
                ["""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}"""], new Dictionary<string, string>()));
            using var ssm = new SsmClient(fixture.Settings());
            var deployer = new Deployer(new SsmFleetSite(ssm, SsmTargets.Instances(instance.Id), new FleetOptions { PollInterval = TimeSpan.FromMilliseconds(100), DeliveryTimeoutSeconds = 30, ExecutionTimeoutSeconds = 60 }, "webapp"),
                new HostSettings());
            var release = new PinnedImage("1.0.0", "registry.example:5443/webapp", "sha256:" + new string('b', 64), "abcdef0");
            var password = $"pw-{Guid.NewGuid():N}";
            var sent = fixture.Endpoint.CommandTexts.Count;

            var error = await Assert.ThrowsAsync<RegistryPullException>(() => deployer.DeployAsync(DeployEnvironment.Staging, release,
                new DeployOptions { DeployedBy = "t", RegistryCredential = new RegistryCredential("registry.example:5443", "robot", password) }));

            Assert.Equal([RegistryFailure.CredentialParameter], error.Reasons);
            Assert.StartsWith($"staging cannot pull 1.0.0 from registry.example:5443: credential-parameter on {instance.Id}: the hosts cannot read /webapp/staging/registry-auth; " +
                              "give their role ssm:GetParameter on it and kms:Decrypt on its key through SSM (iam/instance-role-policy.json)", error.Message);
            Assert.Contains("this host's role cannot read /webapp/staging/registry-auth: ", error.Message);
            Assert.Contains("AccessDeniedException", error.Message);
            Assert.EndsWith("; no host was switched", error.Message);
            Assert.Equal([new HostRow(instance.Id, "FAILED: pull check (credential-parameter)", "-", "unchanged (nothing was switched)")], error.Table);
            var texts = fixture.Endpoint.CommandTexts.Skip(sent).ToList();
            Assert.Single(texts, t => t.Contains("# pull check of 1.0.0", StringComparison.Ordinal));
            Assert.DoesNotContain(texts, t => t.Contains("# deploy 1.0.0", StringComparison.Ordinal));
            Assert.DoesNotContain(texts, t => t.Contains(password, StringComparison.Ordinal));
            Assert.DoesNotContain(password, error.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
