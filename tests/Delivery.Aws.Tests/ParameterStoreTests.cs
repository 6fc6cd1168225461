namespace Delivery.Aws.Tests;

public sealed class ParameterStoreTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    [Fact]
    public async Task Parameters_round_trip_across_pages_and_versions()
    {
        using var ssm = new SsmClient(fixture.Settings());
        var root = $"/webapp/{Guid.NewGuid():N}";
        for (var i = 1; i <= 12; i++)
            Assert.Equal(1, await ssm.PutParameterAsync($"{root}/releases/1.0.{i}", $"{{\"digest\":\"sha256:{i}\"}}"));
        await ssm.PutParameterAsync($"{root}/current", "1.0.12");

        var refused = await Assert.ThrowsAsync<AwsException>(() => ssm.PutParameterAsync($"{root}/current", "1.0.11"));
        Assert.Equal("ParameterAlreadyExists", refused.ErrorCode);
        Assert.Equal(2, await ssm.PutParameterAsync($"{root}/current", "1.0.11", overwrite: true));

        var all = await ssm.GetParametersByPathAsync(root);
        Assert.Equal(13, all.Count); // more than one page of 10: NextToken was followed
        Assert.Equal("""{"digest":"sha256:7"}""", all.Single(p => p.Name == $"{root}/releases/1.0.7").Value);
        var current = all.Single(p => p.Name == $"{root}/current");
        Assert.Equal(("1.0.11", 2L, "String"), (current.Value, current.Version, current.Type));
        Assert.NotNull(current.LastModified);

        var direct = await ssm.GetParametersByPathAsync(root, recursive: false);
        Assert.Equal([$"{root}/current"], direct.Select(p => p.Name));
        Assert.Empty(await ssm.GetParametersByPathAsync($"{root}/nothing"));
    }
}
