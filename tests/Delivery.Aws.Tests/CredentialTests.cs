using Amazon.Runtime;
using Aws.TestEndpoint;
using Delivery.Core;

namespace Delivery.Aws.Tests;

[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment;

/// <summary>These tests set AWS_* variables of this process (and restore them), so they run alone.</summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class CredentialTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    static readonly string[] Variables =
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID"];

    [Fact]
    public async Task Credentials_come_from_environment_variables_through_the_AWSSDK_chain()
    {
        await WithVariables(new()
        {
            ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = AwsTestEndpoint.SecretKey,
        }, async () =>
        {
            var chain = new AwsCredentialChain(() => new EnvironmentVariablesAWSCredentials());
            using var ssm = new SsmClient(fixture.Settings(chain));

            var version = await ssm.PutParameterAsync($"/credentials/{Guid.NewGuid():N}", "from-env");

            Assert.Equal(1, version);
            Assert.Equal(AwsTestEndpoint.AccessKey, (await chain.GetCredentialsAsync()).AccessKey);
        });
    }

    [Fact]
    public async Task The_chain_falls_through_to_the_next_source()
    {
        await WithVariables([], async () =>
        {
            var chain = new AwsCredentialChain(
                () => new EnvironmentVariablesAWSCredentials(),
                () => new BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey));
            using var ssm = new SsmClient(fixture.Settings(chain));

            Assert.Equal(1, await ssm.PutParameterAsync($"/credentials/{Guid.NewGuid():N}", "fallback"));
        });
    }

    [Fact]
    public async Task No_credentials_anywhere_fails_in_one_line()
    {
        await WithVariables([], async () =>
        {
            var chain = new AwsCredentialChain(() => new EnvironmentVariablesAWSCredentials());

            var error = await Assert.ThrowsAsync<DeliveryException>(chain.GetCredentialsAsync);

            Assert.StartsWith("No AWS credentials found: EnvironmentVariablesAWSCredentials: ", error.Message);
            Assert.DoesNotContain("\n", error.Message);
        });
    }

    static async Task WithVariables(Dictionary<string, string> values, Func<Task> test)
    {
        var saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var v in Variables) Environment.SetEnvironmentVariable(v, values.GetValueOrDefault(v));
            await test();
        }
        finally
        {
            foreach (var (v, value) in saved) Environment.SetEnvironmentVariable(v, value);
        }
    }
}
