using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>An OS package as the base image's package database (dpkg) records it.</summary>
public sealed record OsPackage(string Name, string Version, string Architecture);

/// <summary>What the base image holds, read from its layers: the .NET shared frameworks by version, the dpkg
/// packages (status, or distroless-style status.d), and the distribution from os-release.</summary>
public sealed partial record BaseImageContents(
    string Reference, string Digest, IReadOnlyDictionary<string, string> Frameworks, IReadOnlyList<OsPackage> Packages,
    string? DistroId, string? DistroVersion)
{
    /// <summary>Reads the base image's export once (see <see cref="ImageLayout.ReadConfigAsync"/>). The digest is
    /// the registry's manifest digest when the engine knows one (a pulled image), else the image id.</summary>
    public static async Task<BaseImageContents> ReadAsync(DockerEngineClient docker, string reference, CancellationToken cancellationToken = default)
    {
        var image = await docker.InspectImageAsync(reference, cancellationToken) ?? throw new DeliveryException($"Base image {reference} does not exist");
        var digest = image.RepoDigests?.Select(d => d[(d.IndexOf('@') + 1)..]).Order(StringComparer.Ordinal).FirstOrDefault() ?? image.ID;
        var frameworks = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var packages = new Dictionary<string, OsPackage>(StringComparer.Ordinal);
        string? osRelease = null;
        await ImageLayout.ReadConfigAsync(docker, reference, async (_, layer) =>
        {
            await using var reader = new TarReader(layer, leaveOpen: true);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var name = entry.Name.TrimStart('.', '/');
                if (FrameworkDirectory().Match(name) is { Success: true } fx) frameworks[fx.Groups[1].Value] = fx.Groups[2].Value;
                if (entry.DataStream is null) continue;
                if (name == "var/lib/dpkg/status" || name.StartsWith("var/lib/dpkg/status.d/", StringComparison.Ordinal))
                    foreach (var package in ParseDpkgStatus(await ReadTextAsync(entry.DataStream, cancellationToken)))
                        packages[$"{package.Name}:{package.Architecture}"] = package;
                else if (name is "etc/os-release" or "usr/lib/os-release")
                    osRelease = await ReadTextAsync(entry.DataStream, cancellationToken);
            }
        }, cancellationToken);
        var release = ParseOsRelease(osRelease ?? "");
        return new BaseImageContents(reference, digest, frameworks, packages.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Architecture, StringComparer.Ordinal).ToList(),
            release.GetValueOrDefault("ID"), release.GetValueOrDefault("VERSION_ID"));
    }

    /// <summary>Installed packages from a dpkg status file (paragraphs of "Field: value").</summary>
    public static IEnumerable<OsPackage> ParseDpkgStatus(string text)
    {
        foreach (var paragraph in text.Replace("\r", "").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in paragraph.Split('\n'))
                if (line.Length > 0 && !char.IsWhiteSpace(line[0]) && line.IndexOf(':') is > 0 and var colon)
                    fields[line[..colon]] = line[(colon + 1)..].Trim();
            if (fields.TryGetValue("Package", out var name) && fields.TryGetValue("Version", out var version) &&
                (!fields.TryGetValue("Status", out var status) || status.EndsWith(" installed", StringComparison.Ordinal)))
                yield return new OsPackage(name, version, fields.GetValueOrDefault("Architecture") ?? "all");
        }
    }

    static Dictionary<string, string> ParseOsRelease(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.IndexOf('=') > 0)
            .Select(l => (Key: l[..l.IndexOf('=')], Value: l[(l.IndexOf('=') + 1)..].Trim('"')))
            .GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    static async Task<string> ReadTextAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    [GeneratedRegex(@"(?:^|/)shared/(Microsoft\.(?:NETCore|AspNetCore)\.App)/([0-9][^/]*)/?$")]
    private static partial Regex FrameworkDirectory();
}

/// <summary>
/// The SBOM of the whole image: the app's CycloneDX SBOM (its NuGet closure, from the CycloneDX tool) plus the base
/// image by digest, the .NET and ASP.NET Core runtime it carries, and its OS packages. The added components carry
/// bom-refs under "image:" and are replaced, not added twice, when the SBOM is completed again; all are sorted, so
/// the same app SBOM and base image always give the same bytes.
/// </summary>
public static class ImageSbom
{
    const string RefPrefix = "image:";

    public static byte[] Complete(byte[] appSbom, BaseImageContents baseImage)
    {
        var root = JsonNode.Parse(appSbom)?.AsObject() ?? throw new DeliveryException("The app SBOM is not a JSON object");
        var components = (root["components"] as JsonArray)?.Select(c => c!.DeepClone()).Where(c => !(c["bom-ref"]?.GetValue<string>() ?? "").StartsWith(RefPrefix, StringComparison.Ordinal)).ToList() ?? [];
        var baseRef = RefPrefix + "base";
        var (baseName, _) = ImageReference.SplitTag(baseImage.Reference.Split('@')[0]);
        var added = new List<JsonNode>
        {
            new JsonObject
            {
                ["type"] = "container", ["bom-ref"] = baseRef, ["name"] = baseName, ["version"] = baseImage.Digest,
                ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = baseImage.Digest["sha256:".Length..] }),
                ["properties"] = new JsonArray(new JsonObject { ["name"] = "delivery:base-image:reference", ["value"] = baseImage.Reference }),
            },
        };
        foreach (var (framework, version) in baseImage.Frameworks)
            added.Add(new JsonObject
            {
                ["type"] = "framework", ["bom-ref"] = $"{RefPrefix}{framework}@{version}", ["publisher"] = "Microsoft", ["name"] = framework, ["version"] = version,
                ["purl"] = $"pkg:nuget/{framework}.Runtime.linux-x64@{version}",
            });
        var distro = baseImage.DistroId ?? "debian";
        foreach (var package in baseImage.Packages)
            added.Add(new JsonObject
            {
                ["type"] = "library", ["bom-ref"] = $"{RefPrefix}deb/{package.Name}@{package.Version}?arch={package.Architecture}",
                ["name"] = package.Name, ["version"] = package.Version,
                ["purl"] = $"pkg:deb/{distro}/{Uri.EscapeDataString(package.Name)}@{Uri.EscapeDataString(package.Version)}?arch={package.Architecture}" +
                           (baseImage.DistroVersion is { } v ? $"&distro={distro}-{v}" : ""),
            });
        root["components"] = new JsonArray(components.Concat(added.OrderBy(c => c["bom-ref"]!.GetValue<string>(), StringComparer.Ordinal)).ToArray());

        // The base and runtime sit under the image in the dependency graph.
        var dependencies = (root["dependencies"] as JsonArray)?.Select(d => d!.DeepClone()).Where(d => !(d["ref"]?.GetValue<string>() ?? "").StartsWith(RefPrefix, StringComparison.Ordinal)).ToList() ?? [];
        dependencies.Add(new JsonObject
        {
            ["ref"] = baseRef,
            ["dependsOn"] = new JsonArray(added.Skip(1).Select(c => c["bom-ref"]!.GetValue<string>()).Order(StringComparer.Ordinal).Select(r => (JsonNode?)r).ToArray()),
        });
        root["dependencies"] = new JsonArray(dependencies.ToArray());
        return Encoding.UTF8.GetBytes(root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
