using Delivery.Aws;

namespace Delivery.Docker.Tests.Integration.Ecr;

public sealed class EcrTests(EcrEndpointFixture fixture) : IClassFixture<EcrEndpointFixture>
{
    [Fact]
    public async Task The_authorization_token_is_decoded_into_a_registry_login()
    {
        const string password = "eyJwYXlsb2FkIjoi:with:colons+and/slashes=";
        fixture.Endpoint.EcrPassword = password;
        using var ecr = new EcrClient(fixture.Settings());

        var login = await ecr.GetAuthorizationTokenAsync();

        Assert.Equal("AWS", login.Username);
        Assert.Equal(password, login.Password);
        Assert.Equal(new Uri("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"), login.ProxyEndpoint);
        Assert.Equal("123456789012.dkr.ecr.eu-west-1.amazonaws.com", login.Registry);
        Assert.InRange(login.ExpiresAt, DateTimeOffset.UtcNow.AddHours(11), DateTimeOffset.UtcNow.AddHours(13));
        Assert.DoesNotContain(password, login.ToString());
        Assert.Contains("***", login.ToString());
    }

    [Fact]
    public async Task A_malformed_token_fails_without_showing_it()
    {
        fixture.Endpoint.EcrUsername = "";
        fixture.Endpoint.EcrPassword = "only-a-password-no-user";
        try
        {
            using var ecr = new EcrClient(fixture.Settings());

            var error = await Assert.ThrowsAsync<AwsException>(() => ecr.GetAuthorizationTokenAsync());

            Assert.Equal("ECR GetAuthorizationToken failed: InvalidResponse: the authorization token is not \"user:password\"", error.Message);
            Assert.DoesNotContain("only-a-password", error.ToString());
        }
        finally
        {
            fixture.Endpoint.EcrUsername = "AWS";
        }
    }

    [Fact]
    public void Default_endpoints_follow_the_region_and_partition()
    {
        Assert.Equal(new Uri("https://api.ecr.eu-west-1.amazonaws.com/"), AwsService.Ecr.DefaultEndpoint("eu-west-1"));
        Assert.Equal(new Uri("https://ssm.cn-north-1.amazonaws.com.cn/"), AwsService.Ssm.DefaultEndpoint("cn-north-1"));
    }
}
