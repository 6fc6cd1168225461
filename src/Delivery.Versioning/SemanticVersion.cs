using System.Diagnostics.CodeAnalysis;
using Delivery.Core;

namespace Delivery.Versioning;

/// <summary>
/// A strict SemVer 2.0 version. Equality and ordering follow SemVer precedence, so build metadata is carried
/// but never compared.
/// </summary>
public sealed class SemanticVersion : IComparable<SemanticVersion>, IEquatable<SemanticVersion>
{
    public SemanticVersion(int major, int minor, int patch, IEnumerable<string>? preReleaseIdentifiers = null, string? buildMetadata = null)
    {
        if (major < 0 || minor < 0 || patch < 0)
            throw new DeliveryException($"Version numbers cannot be negative: {major}.{minor}.{patch}");
        var identifiers = (preReleaseIdentifiers ?? []).ToArray();
        if (identifiers.Any(id => !IsValidPreReleaseIdentifier(id)))
            throw new DeliveryException($"'{string.Join('.', identifiers)}' is not a valid SemVer pre-release (dot-separated [0-9A-Za-z-] identifiers, numbers without leading zeros)");
        if (buildMetadata is not null && !IsValidBuildMetadata(buildMetadata))
            throw new DeliveryException($"'{buildMetadata}' is not valid SemVer build metadata (dot-separated [0-9A-Za-z-] identifiers)");
        Major = major;
        Minor = minor;
        Patch = patch;
        PreReleaseIdentifiers = identifiers;
        BuildMetadata = buildMetadata;
    }

    public int Major { get; }
    public int Minor { get; }
    public int Patch { get; }
    public IReadOnlyList<string> PreReleaseIdentifiers { get; }
    /// <summary>The pre-release identifiers joined with dots; empty for a release.</summary>
    public string PreRelease => string.Join('.', PreReleaseIdentifiers);
    public string? BuildMetadata { get; }
    public bool IsPreRelease => PreReleaseIdentifiers.Count > 0;

    public SemanticVersion WithoutBuildMetadata() =>
        BuildMetadata is null ? this : new SemanticVersion(Major, Minor, Patch, PreReleaseIdentifiers);

    public override string ToString() =>
        $"{Major}.{Minor}.{Patch}"
        + (IsPreRelease ? "-" + PreRelease : "")
        + (BuildMetadata is null ? "" : "+" + BuildMetadata);

    /// <summary>Parses a version or throws a <see cref="DeliveryException"/> naming the bad input.</summary>
    public static SemanticVersion Parse(string text) =>
        TryParse(text, out var version)
            ? version
            : throw new DeliveryException(
                $"'{text}' is not a valid SemVer 2.0 version (expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], e.g. 1.2.3 or 1.2.3-rc.1)");

    public static bool TryParse(string? text, [NotNullWhen(true)] out SemanticVersion? version)
    {
        version = null;
        if (string.IsNullOrEmpty(text)) return false;

        string? build = null;
        var plus = text.IndexOf('+');
        if (plus >= 0)
        {
            build = text[(plus + 1)..];
            text = text[..plus];
            if (!IsValidBuildMetadata(build)) return false;
        }

        string[] preRelease = [];
        var dash = text.IndexOf('-');
        if (dash >= 0)
        {
            preRelease = text[(dash + 1)..].Split('.');
            text = text[..dash];
            if (!preRelease.All(IsValidPreReleaseIdentifier)) return false;
        }

        var core = text.Split('.');
        if (core.Length != 3) return false;
        if (!TryParseNumber(core[0], out var major) || !TryParseNumber(core[1], out var minor) || !TryParseNumber(core[2], out var patch))
            return false;

        version = new SemanticVersion(major, minor, patch, preRelease, build);
        return true;
    }

    /// <summary>SemVer precedence (spec item 11): build metadata is ignored.</summary>
    public int CompareTo(SemanticVersion? other)
    {
        if (other is null) return 1;
        var byCore = (Major, Minor, Patch).CompareTo((other.Major, other.Minor, other.Patch));
        if (byCore != 0) return byCore;

        // A pre-release sorts below the release with the same core.
        if (IsPreRelease != other.IsPreRelease) return IsPreRelease ? -1 : 1;

        var shared = Math.Min(PreReleaseIdentifiers.Count, other.PreReleaseIdentifiers.Count);
        for (var i = 0; i < shared; i++)
        {
            var byIdentifier = CompareIdentifiers(PreReleaseIdentifiers[i], other.PreReleaseIdentifiers[i]);
            if (byIdentifier != 0) return byIdentifier;
        }
        return PreReleaseIdentifiers.Count.CompareTo(other.PreReleaseIdentifiers.Count);
    }

    public static int Compare(SemanticVersion? left, SemanticVersion? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);

    public bool Equals(SemanticVersion? other) => other is not null && CompareTo(other) == 0;
    public override bool Equals(object? obj) => obj is SemanticVersion other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Major);
        hash.Add(Minor);
        hash.Add(Patch);
        foreach (var id in PreReleaseIdentifiers) hash.Add(id, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    public static bool operator ==(SemanticVersion? left, SemanticVersion? right) => Compare(left, right) == 0;
    public static bool operator !=(SemanticVersion? left, SemanticVersion? right) => Compare(left, right) != 0;
    public static bool operator <(SemanticVersion? left, SemanticVersion? right) => Compare(left, right) < 0;
    public static bool operator >(SemanticVersion? left, SemanticVersion? right) => Compare(left, right) > 0;
    public static bool operator <=(SemanticVersion? left, SemanticVersion? right) => Compare(left, right) <= 0;
    public static bool operator >=(SemanticVersion? left, SemanticVersion? right) => Compare(left, right) >= 0;

    static int CompareIdentifiers(string left, string right)
    {
        var leftNumeric = IsNumeric(left);
        var rightNumeric = IsNumeric(right);
        if (leftNumeric && rightNumeric)
        {
            // No leading zeros are allowed, so a longer number is a bigger one; this avoids overflow on huge identifiers.
            var byLength = left.Length.CompareTo(right.Length);
            return byLength != 0 ? byLength : string.CompareOrdinal(left, right);
        }
        if (leftNumeric != rightNumeric) return leftNumeric ? -1 : 1;
        return Math.Sign(string.CompareOrdinal(left, right));
    }

    static bool TryParseNumber(string text, out int value)
    {
        value = 0;
        if (!IsNumeric(text) || (text.Length > 1 && text[0] == '0')) return false;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    static bool IsValidPreReleaseIdentifier(string id) =>
        IsValidIdentifier(id) && !(IsNumeric(id) && id.Length > 1 && id[0] == '0');

    static bool IsValidBuildMetadata(string text) => text.Split('.').All(IsValidIdentifier);

    static bool IsValidIdentifier(string id) => id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    static bool IsNumeric(string id) => id.Length > 0 && id.All(char.IsAsciiDigit);
}
