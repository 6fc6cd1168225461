using Delivery.Docker;

namespace Delivery.Docker.Tests.Unit;

public sealed class EcrRegistryTests
{
    [Theory]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012", "eu-west-1")]
    [InlineData("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1")]
    [InlineData("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012", "us-east-1")]
    [InlineData("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1")]
    [InlineData("123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM", "123456789012", "eu-west-1")]
    public void ECR_hosts_give_their_account_and_region(string registry, string account, string region)
    {
        var ecr = EcrRegistry.TryParse(registry);

        Assert.NotNull(ecr);
        Assert.Equal(account, ecr.AccountId);
        Assert.Equal(region, ecr.Region);
    }

    [Theory]
    [InlineData("127.0.0.1:5000")]
    [InlineData("ghcr.io")]
    [InlineData("12345.dkr.ecr.eu-west-1.amazonaws.com")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443")]
    public void Other_registries_are_not_ECR(string registry)
    {
        Assert.Null(EcrRegistry.TryParse(registry));
    }
}
