namespace Delivery.Provisioning;

/// <summary>The distributions whose package names the build knows. Anything else gets a one-line failure.</summary>
public enum Distribution
{
    Unsupported,
    Debian12,
    Ubuntu2204,
    Ubuntu2404,
}

/// <summary>What <c>/etc/os-release</c> says about the machine.</summary>
public sealed record OsRelease(string Id, string VersionId, string PrettyName)
{
    public Distribution Distribution => (Id, VersionId) switch
    {
        ("debian", "12") => Distribution.Debian12,
        ("ubuntu", "22.04") => Distribution.Ubuntu2204,
        ("ubuntu", "24.04") => Distribution.Ubuntu2404,
        _ => Distribution.Unsupported,
    };

    public bool IsUbuntu => Distribution is Distribution.Ubuntu2204 or Distribution.Ubuntu2404;

    public static OsRelease Parse(string text)
    {
        var values = new Dictionary<string, string>();
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq <= 0 || line.TrimStart().StartsWith('#')) continue;
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"', '\'');
        }
        var id = values.GetValueOrDefault("ID", "linux");
        var version = values.GetValueOrDefault("VERSION_ID", "");
        return new OsRelease(id, version, values.GetValueOrDefault("PRETTY_NAME", $"{id} {version}".Trim()));
    }

    public static OsRelease Read(string path = "/etc/os-release") =>
        File.Exists(path) ? Parse(File.ReadAllText(path)) : new OsRelease("unknown", "", "an unknown system (no /etc/os-release)");
}
