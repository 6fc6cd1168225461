using Amazon.Runtime;
using Aws.TestEndpoint;
using Delivery.Docker;

namespace Delivery.Aws.Tests;

public sealed class SigningTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    [Fact]
    public async Task A_request_signed_with_the_right_key_is_accepted()
    {
        using var ecr = new EcrClient(fixture.Settings());

        var login = await ecr.GetAuthorizationTokenAsync();

        Assert.Equal("AWS", login.Username);
        Assert.Contains("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", fixture.Endpoint.Received);
    }

    [Fact]
    public async Task A_session_token_is_sent_and_signed()
    {
        using var ssm = new SsmClient(fixture.Settings(new SessionAWSCredentials(AwsTestEndpoint.TemporaryAccessKey, AwsTestEndpoint.TemporarySecretKey, AwsTestEndpoint.SessionToken)));

        var version = await ssm.PutParameterAsync($"/signing/{Guid.NewGuid():N}", "v");

        Assert.Equal(1, version);
    }

    [Fact]
    public async Task A_wrong_secret_key_is_rejected_in_one_line_that_does_not_show_the_key()
    {
        const string wrongSecret = "wrong/secret+key/0123456789abcdefghijklmn";
        var before = fixture.Endpoint.Received.Count;
        using var ssm = new SsmClient(fixture.Settings(new BasicAWSCredentials(AwsTestEndpoint.AccessKey, wrongSecret)));

        var error = await Assert.ThrowsAsync<AwsException>(() => ssm.PutParameterAsync("/signing/wrong", "secret-value-in-body"));

        Assert.Equal(
            "SSM PutParameter failed: InvalidSignatureException: The request signature we calculated does not match the signature " +
            "you provided. Check your AWS Secret Access Key and signing method.", error.Message);
        Assert.Equal("InvalidSignatureException", error.ErrorCode);
        Assert.Equal(400, error.StatusCode);
        Assert.DoesNotContain(wrongSecret, error.ToString());
        Assert.DoesNotContain("secret-value-in-body", error.ToString());
        Assert.Equal(before, fixture.Endpoint.Received.Count); // refused before any operation ran, and not retried into one
    }

    [Fact]
    public async Task An_unknown_access_key_is_rejected()
    {
        using var ssm = new SsmClient(fixture.Settings(new BasicAWSCredentials("AKIAUNKNOWN000000000", AwsTestEndpoint.SecretKey)));

        var error = await Assert.ThrowsAsync<AwsException>(() => ssm.PutParameterAsync("/signing/unknown", "v"));

        Assert.Equal("SSM PutParameter failed: UnrecognizedClientException: The security token included in the request is invalid.", error.Message);
    }

    [Fact]
    public async Task A_request_signed_for_another_region_is_rejected()
    {
        var settings = fixture.Settings() with { Region = "us-east-1" };
        using var ssm = new SsmClient(settings);

        var error = await Assert.ThrowsAsync<AwsException>(() => ssm.PutParameterAsync("/signing/region", "v"));

        Assert.Equal("InvalidSignatureException", error.ErrorCode);
        Assert.Contains("us-east-1", error.Message);
    }

    [Fact]
    public async Task An_unsigned_request_is_rejected_like_AWS_does()
    {
        using var http = new HttpClient();
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentType = new("application/x-amz-json-1.1");
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Endpoint.Url) { Content = content };
        request.Headers.Add("X-Amz-Target", "AmazonSSM.PutParameter");

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("""{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}""", body);
    }

    [Fact]
    public async Task A_body_changed_after_signing_is_rejected()
    {
        // Sign one body with the client's signer, send another: the endpoint must notice.
        var signer = new AwsSigner(AwsService.Ssm, fixture.Endpoint.Region);
        var headers = signer.Sign(fixture.Endpoint.Url, new Dictionary<string, string>
        {
            ["Content-Type"] = "application/x-amz-json-1.1",
            ["X-Amz-Target"] = "AmazonSSM.GetParametersByPath",
        }, """{"Path":"/a"}"""u8.ToArray(), new ImmutableCredentials(AwsTestEndpoint.AccessKey, AwsTestEndpoint.SecretKey, null));
        using var http = new HttpClient();
        using var content = new ByteArrayContent("""{"Path":"/b"}"""u8.ToArray());
        content.Headers.ContentType = new("application/x-amz-json-1.1");
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Endpoint.Url) { Content = content };
        foreach (var (name, value) in headers.Where(h => h.Key is not ("Host" or "Content-Type")))
            request.Headers.TryAddWithoutValidation(name, value);

        using var response = await http.SendAsync(request);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("InvalidSignatureException", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_operation_is_refused_with_UnknownOperationException()
    {
        using var client = new AwsJsonClient(AwsService.Ssm, fixture.Settings(), fixture.Endpoint.Url);

        var error = await Assert.ThrowsAsync<AwsException>(() => client.SendAsync("DescribeNothing", []));

        Assert.Equal("UnknownOperationException", error.ErrorCode);
        Assert.StartsWith("SSM DescribeNothing failed: UnknownOperationException", error.Message);
    }
}
