using Aws.TestEndpoint;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// A registry other than ECR, with TLS and a password, pulled by fleet instances: the build stores the login as a
/// SecureString under a customer managed key, each instance reads it with its instance role (the shipped
/// iam/instance-role-policy.json, enforced) through its own AWS CLI, and logs docker in through stdin. The password is
/// in no SendCommand text and no build output; a wrong one stops the deploy before any instance switches.
/// </summary>
public sealed partial class FleetOperationsTests
{
    [Fact]
    public async Task Instances_pull_from_a_TLS_registry_with_a_password_they_read_themselves_and_a_wrong_password_stops_the_deploy_before_any_switch()
    {
        const string user = "fleet-robot";
        var password = $"pw-{Guid.NewGuid():N}";
        await using var registry = await TestRegistry.StartAsync(new TestRegistryOptions(Tls: true, Username: user, Password: password));
        var pushConfig = await registry.LoginAsync();
        var v1 = await TestImages.BuildAndPushAsync(registry.Address, "e2e-private", "3.0.0", ImageBehaviour.Healthy, pushConfig);
        var v2 = await TestImages.BuildAndPushAsync(registry.Address, "e2e-private", "3.1.0", ImageBehaviour.Healthy, pushConfig);

        var tag = Fleet.AddInstances("private", 2);
        var instances = Fleet.Instances.Where(i => tag.EndsWith(i.Fake.Tags["Role"], StringComparison.Ordinal)).ToList();
        var aws = Tools.Require("aws", "awscli");
        foreach (var instance in instances)
        {
            // What an EC2 instance has: its instance profile's temporary credentials (here as variables, there from
            // IMDS), the AWS CLI, and the agent's bare environment.
            instance.Fake.Environment["PATH"] = $"{Path.GetDirectoryName(aws)}:{AwsTestEndpoint.AgentPath}";
            instance.Fake.Environment["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.InstanceAccessKey;
            instance.Fake.Environment["AWS_SECRET_ACCESS_KEY"] = AwsTestEndpoint.InstanceSecretKey;
            instance.Fake.Environment["AWS_SESSION_TOKEN"] = AwsTestEndpoint.InstanceSessionToken;
            instance.Fake.Environment["AWS_ENDPOINT_URL_SSM"] = Fleet.Endpoint.Url.ToString();
            instance.Fake.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        }
        var variables = new Dictionary<string, string> { ["Region"] = Fleet.Endpoint.Region, ["Account"] = AwsTestEndpoint.Account };
        Fleet.Endpoint.Iam.Assign(AwsTestEndpoint.InstanceAccessKey, "webapp-instance",
            new IamPolicy([File.ReadAllText(Path.Combine(Repository.Root, "iam", "instance-role-policy.json"))], variables));
        var key = Fleet.Endpoint.CreateKmsKey();

        var environment = Fleet.AwsEnvironment();
        environment["REGISTRY_PASSWORD"] = password;
        string[] deploy = ["DeployStaging", "--skip", "--staging-targets", tag, "--registry", registry.Address, "--registry-username", user, "--registry-credential-key", key];
        await WriteImageAsync(v1);
        var first = await BuildAsync(environment, deploy);

        BuildAssert.Succeeded(first);
        foreach (var i in instances) Assert.Equal("3.0.0", await Fleet.VersionAsync(i.StagingPort));
        Assert.Contains(first.OutputLines, l => l.Contains($"logs in to {registry.Address} with /webapp/staging/registry-auth (SecureString, read by each host with its own role)", StringComparison.Ordinal));
        Assert.Contains(first.OutputLines, l => l.Contains("3.0.0 is on 2 host(s) of staging, pulled before any switch", StringComparison.Ordinal));
        Assert.True(Fleet.Endpoint.Iam.UsedActions.ContainsKey("kms:Decrypt"), "the instances decrypted their login through SSM");
        var texts = Fleet.Endpoint.CommandTexts;
        Assert.Contains(texts, t => t.Contains("registry_auth_parameter='/webapp/staging/registry-auth'", StringComparison.Ordinal));
        Assert.DoesNotContain(texts, t => t.Contains(password, StringComparison.Ordinal));
        BuildAssert.DoesNotContain(first, password);

        // The same deploy with a wrong password: every instance's pull check fails on the registry's refusal, in one
        // line that names the fix; no deploy script is sent, every instance keeps serving 3.0.0.
        environment["REGISTRY_PASSWORD"] = $"wrong-{password}";
        await WriteImageAsync(v2);
        var sentBefore = texts.Count;
        var refused = await BuildAsync(environment, deploy);

        var message = BuildAssert.TargetFailure(refused, "DeployStaging");
        Assert.True(message.StartsWith($"staging cannot pull 3.1.0 from {registry.Address}: credentials on ", StringComparison.Ordinal), message);
        Assert.Contains($": the registry refused the credentials the build stored in /webapp/staging/registry-auth; pass the right --registry-username and REGISTRY_PASSWORD for {registry.Address} (docker: ", message);
        Assert.EndsWith("; no host was switched", message);
        foreach (var i in instances) Assert.Contains(i.Id, message);
        foreach (var i in instances) Assert.Equal("3.0.0", await Fleet.VersionAsync(i.StagingPort));
        Assert.DoesNotContain(Fleet.Endpoint.CommandTexts.Skip(sentBefore), t => t.Contains("# deploy 3.1.0", StringComparison.Ordinal));
        Assert.DoesNotContain(Fleet.Endpoint.CommandTexts, t => t.Contains(password, StringComparison.Ordinal));
        BuildAssert.DoesNotContain(refused, password);
    }
}
