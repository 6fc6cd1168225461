using System.Text.RegularExpressions;

namespace Delivery.Docker;

/// <summary>An Amazon ECR registry host, <c>&lt;account&gt;.dkr.ecr.&lt;region&gt;.amazonaws.com</c>: its region is
/// where the login token is asked for.</summary>
public sealed partial record EcrRegistry(string Host, string AccountId, string Region)
{
    /// <summary>The ECR registry a registry address names, or null for any other registry.</summary>
    public static EcrRegistry? TryParse(string registry)
    {
        var match = HostPattern().Match(registry.Trim());
        return match.Success ? new EcrRegistry(match.Value.ToLowerInvariant(), match.Groups["account"].Value, match.Groups["region"].Value.ToLowerInvariant()) : null;
    }

    [GeneratedRegex(@"^(?<account>\d{12})\.dkr\.ecr(-fips)?\.(?<region>[a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?$", RegexOptions.IgnoreCase)]
    private static partial Regex HostPattern();
}
