using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>Splitting image references the way the engine does: [registry/]path[:tag][@digest].</summary>
public static partial class ImageReference
{
    /// <summary>The registry host of a repository: "127.0.0.1:5000/webapp" → "127.0.0.1:5000", "webapp" → "docker.io".</summary>
    public static string RegistryOf(string repository)
    {
        var slash = repository.IndexOf('/');
        if (slash < 0) return "docker.io";
        var first = repository[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost" ? first : "docker.io";
    }

    /// <summary>"host:5000/app:1.2" → ("host:5000/app", "1.2"); no tag → "latest". A digest reference is rejected.</summary>
    public static (string Repository, string Tag) SplitTag(string reference)
    {
        if (reference.Contains('@'))
            throw new DeliveryException($"Image reference '{reference}' has a digest; a tag is needed here");
        var lastSlash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        if (colon > lastSlash) return (reference[..colon], reference[(colon + 1)..]);
        return (reference, "latest");
    }

    /// <summary>True for a valid Docker tag: <c>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}</c>.</summary>
    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    /// <summary>True for a repository path the engine accepts (lower case components, optional registry host).</summary>
    public static bool IsValidRepository(string repository) => RepositoryPattern().IsMatch(repository);

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();
}
