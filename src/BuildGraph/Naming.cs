using System.Text;

namespace BuildGraph;

internal static class Naming
{
    /// <summary><c>RegistryPassword</c> → <c>registry-password</c>, <c>HTTPPort</c> → <c>http-port</c>.</summary>
    public static string Kebab(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is '_' or '-' or ' ')
            {
                if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
                continue;
            }
            if (char.IsUpper(c) && i > 0 && sb.Length > 0 && sb[^1] != '-')
            {
                var previous = name[i - 1];
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                    sb.Append('-');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString().Trim('-');
    }

    /// <summary>The conventional environment variable name: <c>RegistryPassword</c> → <c>REGISTRY_PASSWORD</c>.</summary>
    public static string EnvironmentName(string name) => Kebab(name).Replace('-', '_').ToUpperInvariant();

    /// <summary>Letters and digits only, lower case: how names from environment variables and files are matched.</summary>
    public static string Key(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
            if (char.IsLetterOrDigit(c)) sb.Append(char.ToLowerInvariant(c));
        return sb.ToString();
    }
}
