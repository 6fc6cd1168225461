using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Aws;

/// <summary>
/// Where an SSM command runs: a list of instance ids ("i-0abc…,i-0def…") or one tag ("tag:Role=webapp-staging",
/// several values separated by commas). Parsed once at the command line; <see cref="ToString"/> gives the text back.
/// </summary>
public sealed partial record SsmTargets
{
    SsmTargets(IReadOnlyList<string>? instanceIds, string? tagKey, IReadOnlyList<string>? tagValues)
    {
        InstanceIds = instanceIds;
        TagKey = tagKey;
        TagValues = tagValues;
    }

    public IReadOnlyList<string>? InstanceIds { get; }
    public string? TagKey { get; }
    public IReadOnlyList<string>? TagValues { get; }

    public bool IsTag => TagKey is not null;

    public static SsmTargets Instances(params string[] ids) => Parse(string.Join(",", ids), "targets");

    /// <summary>Parses the text; <paramref name="what"/> names the setting in the one-line error.</summary>
    public static SsmTargets Parse(string text, string what)
    {
        var value = text.Trim();
        if (value.StartsWith("tag:", StringComparison.Ordinal))
        {
            var match = TagPattern().Match(value);
            if (!match.Success)
                throw new DeliveryException($"{what} '{value}' is not a tag target: expected tag:Key=Value (or tag:Key=Value1,Value2)");
            return new SsmTargets(null, match.Groups["key"].Value,
                match.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }
        var ids = value.Split([',', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length == 0) throw new DeliveryException($"{what} is empty: give instance ids (i-0123…) or tag:Key=Value");
        foreach (var id in ids)
            if (!InstancePattern().IsMatch(id))
                throw new DeliveryException($"{what}: '{id}' is not an instance id (i- or mi- and 8 or 17 hex digits) or a tag:Key=Value target");
        if (ids.Length > 50) throw new DeliveryException($"{what} lists {ids.Length} instances; SSM takes at most 50 ids, use a tag target");
        return new SsmTargets(ids.Distinct().ToList(), null, null);
    }

    public override string ToString() =>
        IsTag ? $"tag:{TagKey}={string.Join(",", TagValues!)}" : string.Join(",", InstanceIds!);

    [GeneratedRegex(@"^tag:(?<key>[\p{L}\p{Z}\p{N}_.:/+\-@]{1,128})=(?<values>[\p{L}\p{Z}\p{N}_.:/+\-@,]{1,256})$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^(i-[0-9a-f]{8}|i-[0-9a-f]{17}|mi-[0-9a-f]{17})$")]
    private static partial Regex InstancePattern();
}

/// <summary>SSM's limits that the build checks before sending, so a too-large command fails here in one line.</summary>
public static class SsmLimits
{
    public const string RunShellScript = "AWS-RunShellScript";

    /// <summary>SSM documents, their parameters included, are limited to 64 KB; the AWS test endpoint enforces the same.</summary>
    public const int MaxCommandBytes = 64 * 1024;

    /// <summary>GetCommandInvocation keeps the first 24,000 characters of stdout and 8,000 of stderr.</summary>
    public const int StandardOutputLimit = 24_000;
    public const int StandardErrorLimit = 8_000;

    public static int CommandBytes(IEnumerable<string> commands) =>
        commands.Sum(c => System.Text.Encoding.UTF8.GetByteCount(c) + 1);

    public static void CheckCommandSize(IEnumerable<string> commands)
    {
        var bytes = CommandBytes(commands);
        if (bytes > MaxCommandBytes)
            throw new DeliveryException($"The SSM command is {bytes:N0} bytes, over the {MaxCommandBytes:N0}-byte limit of an SSM document's parameters; nothing was sent");
    }
}
