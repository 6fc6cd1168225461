using Amazon.Runtime;
using Aws.TestEndpoint;
using Delivery.Docker;

namespace Delivery.Aws.Tests;

/// <summary>No secret key, session token or ECR password in any message, whatever fails.</summary>
public sealed class SecretTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    const string SessionToken = AwsTestEndpoint.SessionToken;

    [Fact]
    public async Task No_failure_message_contains_a_secret()
    {
        const string ecrPassword = "ecr-password-that-must-not-leak";
        fixture.Endpoint.EcrPassword = ecrPassword;
        var good = fixture.Settings(new SessionAWSCredentials(AwsTestEndpoint.TemporaryAccessKey, AwsTestEndpoint.TemporarySecretKey, SessionToken));
        var bad = fixture.Settings(new BasicAWSCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey + "x"));
        using var ssm = new SsmClient(good);
        using var badSsm = new SsmClient(bad);
        using var ecr = new EcrClient(good);
        using var badEcr = new EcrClient(bad);
        var login = await ecr.GetAuthorizationTokenAsync();

        var failures = new List<Exception>
        {
            await Assert.ThrowsAnyAsync<Exception>(() => badSsm.PutParameterAsync("/secret", "value")),
            await Assert.ThrowsAnyAsync<Exception>(() => badEcr.GetAuthorizationTokenAsync()),
            await Assert.ThrowsAnyAsync<Exception>(() => fixture.Host(ssm, "i-unknown").RunAsync("echo x")),
            await Assert.ThrowsAnyAsync<Exception>(() => ssm.GetCommandInvocationAsync("none", "i-unknown")),
        };
        fixture.Endpoint.ThrottleNext(100);
        using var impatient = new SsmClient(good with { MaxAttempts = 2 });
        failures.Add(await Assert.ThrowsAnyAsync<Exception>(() => impatient.PutParameterAsync("/secret", "v")));
        fixture.Endpoint.ThrottleNext(0);

        var texts = failures.Select(f => f.ToString())
            .Append(login.ToString()).Append(good.ToString()).Append(bad.ToString());
        foreach (var text in texts)
        {
            Assert.DoesNotContain(AwsTestEndpoint.SecretKey, text);
            Assert.DoesNotContain(SessionToken, text);
            Assert.DoesNotContain(ecrPassword, text);
        }
        Assert.All(failures, f => Assert.DoesNotContain("\n", f.Message));
    }
}
