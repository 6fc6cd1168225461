namespace Delivery.Aws;

/// <summary>What tells one AWS JSON 1.1 service from another on the wire.</summary>
/// <param name="DisplayName">Used in messages: "SSM", "ECR".</param>
/// <param name="SigningName">The SigV4 service name: "ssm", "ecr".</param>
/// <param name="TargetPrefix">The X-Amz-Target prefix: "AmazonSSM".</param>
/// <param name="HostPrefix">The public endpoint's first labels: "ssm" gives ssm.eu-west-1.amazonaws.com.</param>
public sealed record AwsService(string DisplayName, string SigningName, string TargetPrefix, string HostPrefix)
{
    public static readonly AwsService Ssm = new("SSM", "ssm", "AmazonSSM", "ssm");
    public static readonly AwsService Ecr = new("ECR", "ecr", "AmazonEC2ContainerRegistry_V20150921", "api.ecr");

    /// <summary>The public regional endpoint; the China partition has its own domain.</summary>
    public Uri DefaultEndpoint(string region) =>
        new($"https://{HostPrefix}.{region}.{(region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com")}/");
}
