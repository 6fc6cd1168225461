using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Aws.TestEndpoint;

/// <summary>One resource a request acts on: its ARN and the tags IAM conditions can test.</summary>
public sealed record IamResource(string Arn, IReadOnlyDictionary<string, string>? Tags = null);

/// <summary>
/// Identity-based IAM policy documents, evaluated as AWS does for one principal (IAM User Guide, "Policy evaluation
/// logic"): a request is allowed only when some statement allows its action on every resource it names and no
/// statement denies it; an explicit Deny beats any Allow. Action and Resource match with IAM's wildcards (* and ?,
/// case-insensitive actions); NotAction/NotResource are refused as unsupported rather than misread. Conditions:
/// StringEquals, StringNotEquals, StringLike, StringNotLike on <c>aws:ResourceTag/Key</c> and
/// <c>ssm:resourceTag/Key</c> (the resource's tags), on <c>aws:RequestedRegion</c>, and on the keys a request adds
/// (<c>kms:ViaService</c>, <c>kms:EncryptionContext:PARAMETER_ARN</c> when SSM calls KMS); any other key fails the
/// condition, so a policy never gets more here than on AWS.
/// </summary>
public sealed class IamPolicy
{
    readonly List<Statement> statements = [];

    /// <summary>The policy documents, with <c>${Name}</c> placeholders replaced from <paramref name="variables"/>.</summary>
    public IamPolicy(IEnumerable<string> documents, IReadOnlyDictionary<string, string> variables)
    {
        foreach (var text in documents)
        {
            var filled = Regex.Replace(text, @"\$\{(\w+)\}", m => variables.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
            using var doc = JsonDocument.Parse(filled);
            var list = doc.RootElement.GetProperty("Statement");
            foreach (var s in list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [list])
            {
                if (s.TryGetProperty("NotAction", out _) || s.TryGetProperty("NotResource", out _))
                    throw new NotSupportedException("NotAction/NotResource are not evaluated by the test endpoint");
                statements.Add(new Statement(
                    s.TryGetProperty("Sid", out var sid) ? sid.GetString() ?? "" : "",
                    s.GetProperty("Effect").GetString() == "Deny",
                    Strings(s, "Action"), Strings(s, "Resource"),
                    s.TryGetProperty("Condition", out var c) ? c.Clone() : (JsonElement?)null));
            }
        }
    }

    /// <summary>Every action some Allow statement names (wildcards as written).</summary>
    public IReadOnlyList<string> AllowedActions => statements.Where(s => !s.Deny).SelectMany(s => s.Actions).Distinct().ToList();

    /// <summary>Null when allowed; otherwise the ARN refused and whether an explicit Deny refused it.</summary>
    /// <param name="context">Further condition keys of the request, e.g. <c>kms:ViaService</c> when SSM calls KMS for the caller.</param>
    public (string Arn, bool ExplicitDeny)? Refuses(string action, IReadOnlyList<IamResource> resources, string region,
        IReadOnlyDictionary<string, string>? context = null)
    {
        foreach (var resource in resources)
        {
            var applicable = statements.Where(s => s.Actions.Any(a => Matches(a, action, ignoreCase: true))
                                                   && s.Resources.Any(r => Matches(r, resource.Arn, ignoreCase: false))
                                                   && ConditionsHold(s.Condition, resource, region, context)).ToList();
            if (applicable.Any(s => s.Deny)) return (resource.Arn, true);
            if (!applicable.Any(s => !s.Deny)) return (resource.Arn, false);
        }
        return null;
    }

    static bool ConditionsHold(JsonElement? condition, IamResource resource, string region, IReadOnlyDictionary<string, string>? context)
    {
        if (condition is not { } c) return true;
        foreach (var op in c.EnumerateObject())
            foreach (var test in op.Value.EnumerateObject())
            {
                var wanted = test.Value.ValueKind == JsonValueKind.Array ? test.Value.EnumerateArray().Select(v => v.GetString()!).ToList() : [test.Value.GetString()!];
                var actual = ContextValue(test.Name, resource, region, context);
                var hold = op.Name switch
                {
                    "StringEquals" => actual is not null && wanted.Contains(actual),
                    "StringNotEquals" => actual is null || !wanted.Contains(actual),
                    "StringLike" => actual is not null && wanted.Any(w => Matches(w, actual, ignoreCase: false)),
                    "StringNotLike" => actual is null || !wanted.Any(w => Matches(w, actual, ignoreCase: false)),
                    _ => false,
                };
                if (!hold) return false;
            }
        return true;
    }

    static string? ContextValue(string key, IamResource resource, string region, IReadOnlyDictionary<string, string>? context)
    {
        if (context?.FirstOrDefault(c => string.Equals(c.Key, key, StringComparison.OrdinalIgnoreCase)) is { Key: not null } found) return found.Value;
        foreach (var prefix in new[] { "aws:ResourceTag/", "ssm:resourceTag/" })
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                return resource.Tags is { } tags && tags.TryGetValue(key[prefix.Length..], out var v) ? v : null;
        return key.Equals("aws:RequestedRegion", StringComparison.OrdinalIgnoreCase) ? region : null;
    }

    static bool Matches(string pattern, string value, bool ignoreCase) =>
        Regex.IsMatch(value, "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$",
            ignoreCase ? RegexOptions.IgnoreCase | RegexOptions.CultureInvariant : RegexOptions.CultureInvariant);

    static List<string> Strings(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? []
        : v.ValueKind == JsonValueKind.String ? [v.GetString()!]
        : v.EnumerateArray().Select(x => x.GetString()!).ToList();

    sealed record Statement(string Sid, bool Deny, List<string> Actions, List<string> Resources, JsonElement? Condition);
}

/// <summary>Which policy each access key's principal has, and what the enforced requests used.</summary>
public sealed class IamEnforcement
{
    readonly ConcurrentDictionary<string, (string Role, IamPolicy Policy)> principals = new(StringComparer.Ordinal);

    /// <summary>"ssm:SendCommand" and the like, for every request that was allowed under an enforced policy.</summary>
    public ConcurrentDictionary<string, bool> UsedActions { get; } = new(StringComparer.OrdinalIgnoreCase);

    public void Assign(string accessKey, string role, IamPolicy policy) => principals[accessKey] = (role, policy);

    public bool TryGet(string accessKey, out (string Role, IamPolicy Policy) principal) => principals.TryGetValue(accessKey, out principal);
}
