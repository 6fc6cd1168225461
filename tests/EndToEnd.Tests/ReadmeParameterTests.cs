using System.Text.RegularExpressions;
using Delivery.Hosts;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>The README's parameter tables show the defaults the code has: those --help prints (written once, in the
/// library that uses them), and the per-environment bake times.</summary>
public sealed class ReadmeParameterTests
{
    [Fact]
    public async Task Every_default_in_the_readme_tables_is_the_one_help_prints()
    {
        var help = await BuildScript.RunAsync(Repository.Root, "--help");
        BuildAssert.Succeeded(help);
        var defaults = help.OutputLines
            .Select(l => Regex.Match(l, @"^\s+(--[a-z0-9-]+) .*?(?:\(default: (.+)\))?$"))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Success ? m.Groups[2].Value : null);
        var rows = File.ReadLines(Path.Combine(Repository.Root, "README.md"))
            .Select(l => Regex.Match(l, @"^\| `(--[a-z0-9-]+)` \| ([^|]+) \|"))
            .Where(m => m.Success)
            .Select(m => (Option: m.Groups[1].Value, Default: m.Groups[2].Value.Trim().Trim('`')))
            .ToList();

        Assert.True(rows.Count >= 10, $"only {rows.Count} parameter rows with a default column in the README");
        foreach (var (option, readme) in rows)
        {
            Assert.True(defaults.ContainsKey(option), $"README lists {option}, which --help does not know");
            var expected = defaults[option] ?? option switch
            {
                "--bake-seconds" => $"staging {Duration(DeployEnvironment.Staging.BakeTime)}, production {Duration(DeployEnvironment.Production.BakeTime)}",
                _ => "-",
            };
            Assert.True(expected == readme, $"README says {option} defaults to '{readme}', the code says '{expected}'");
        }
    }

    static string Duration(TimeSpan t) => t.TotalSeconds % 60 == 0 ? $"{t.TotalMinutes:0}m" : $"{t.TotalSeconds:0}s";
}
