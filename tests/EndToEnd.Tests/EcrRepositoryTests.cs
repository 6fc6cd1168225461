using Aws.TestEndpoint;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// Push to ECR makes sure the repository exists first, through the AWS test endpoint (AWS_ENDPOINT_URL_ECR). The
/// registry host itself cannot be reached from here, so each push ends at the engine's push, after the API calls.
/// </summary>
[Collection(ImageCloneCollection.Name)]
public sealed class EcrRepositoryTests(CloneFixture clone, AwsEndpointFixture aws) : CloneTests(clone), IClassFixture<AwsEndpointFixture>
{
    async Task<BuildRun> PushAsync(string account, string image, params string[] extra)
    {
        var registry = $"{account}.dkr.ecr.eu-west-1.amazonaws.com";
        Directory.CreateDirectory(Path.Combine(Root, "artifacts"));
        // What DockerBuild recorded; Push --skip reads it. The image id is never reached: the push fails at the registry host.
        await File.WriteAllTextAsync(Path.Combine(Root, "artifacts", "image-build.json"), $$"""
            { "repository": "{{registry}}/{{image}}", "tags": ["1.2.3"], "imageId": "sha256:{{new string('0', 64)}}", "version": "1.2.3", "commit": "0123456789abcdef0123456789abcdef01234567" }
            """);
        var environment = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = AwsTestEndpoint.SecretKey,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_ENDPOINT_URL"] = null,
            ["AWS_ENDPOINT_URL_ECR"] = aws.Endpoint.Url.ToString(),
        };
        return await Clone.BuildAsync(environment, ["Push", "--skip", "--registry", registry, "--image-name", image, .. extra]);
    }

    [Fact]
    public async Task Push_creates_a_missing_repository_with_scan_on_push_and_immutable_tags_on_request()
    {
        var image = "webapp-" + Guid.NewGuid().ToString("N")[..6];

        var run = await PushAsync(AwsTestEndpoint.Account, image, "--ecr-immutable-tags");

        Assert.Contains($"Created ECR repository {AwsTestEndpoint.Account}.dkr.ecr.eu-west-1.amazonaws.com/{image} (scan on push, immutable tags)", run.OutputLines);
        Assert.True(aws.Endpoint.Ecr.ScansOnPush(image));
        Assert.True(aws.Endpoint.Ecr.IsImmutable(image));
        BuildAssert.TargetFailure(run, "Push"); // the registry host is not reachable from the tests

        var again = await PushAsync(AwsTestEndpoint.Account, image);
        Assert.Contains($"ECR repository {AwsTestEndpoint.Account}.dkr.ecr.eu-west-1.amazonaws.com/{image} exists (immutable tags)", again.OutputLines);
    }

    [Fact]
    public async Task A_repository_in_another_account_fails_in_one_line_before_anything_is_pushed()
    {
        var before = aws.Endpoint.Ecr.RepositoryNames.Count;

        var run = await PushAsync("999999999999", "webapp");

        var message = BuildAssert.TargetFailure(run, "Push");
        Assert.Equal("ECR DescribeRepositories failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/delivery-test is not authorized to perform: " +
                     "ecr:DescribeRepositories on resource: arn:aws:ecr:eu-west-1:999999999999:repository/webapp because no resource-based policy allows the ecr:DescribeRepositories action", message);
        Assert.Equal(before, aws.Endpoint.Ecr.RepositoryNames.Count);
        Assert.DoesNotContain(run.OutputLines, l => l.Contains("layer", StringComparison.Ordinal));
        BuildAssert.DoesNotContain(run, AwsTestEndpoint.SecretKey);
    }
}
