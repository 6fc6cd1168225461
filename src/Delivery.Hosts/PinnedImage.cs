using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>An image pinned by digest, with the version and commit it was built from.</summary>
public sealed partial record PinnedImage(string Version, string Repository, string Digest, string? Commit = null)
{
    public string ImageReference => $"{Repository}@{Digest}";

    public string ShortDigest => Digest.Length > 19 ? Digest["sha256:".Length..("sha256:".Length + 12)] : Digest;

    public void Validate()
    {
        if (!VersionPattern().IsMatch(Version))
            throw new DeliveryException($"Release version '{Version}' may contain only letters, digits, '.', '+', '_' and '-'.");
        if (!RepositoryPattern().IsMatch(Repository))
            throw new DeliveryException($"Image repository '{Repository}' is not a valid repository name (lower-case, e.g. registry:5000/webapp).");
        if (!DigestPattern().IsMatch(Digest))
            throw new DeliveryException($"Image digest '{Digest}' must be sha256: followed by 64 lower-case hex digits.");
        if (!string.IsNullOrEmpty(Commit) && !CommitPattern().IsMatch(Commit))
            throw new DeliveryException($"Commit '{Commit}' must be a hex git object id (or 'unknown' for a build outside git).");
    }

    [GeneratedRegex("^[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}$")] private static partial Regex VersionPattern();
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*$")] private static partial Regex RepositoryPattern();
    [GeneratedRegex("^sha256:[0-9a-f]{64}$")] private static partial Regex DigestPattern();
    [GeneratedRegex("^([0-9a-f]{7,64}|unknown)$")] private static partial Regex CommitPattern();
}
