using System.Text;

namespace BuildGraph;

/// <summary>The <c>--help</c> text: targets with descriptions and direct dependencies, options, and parameters with
/// their sources.</summary>
internal static class HelpText
{
    public static string Render(TargetCatalog catalog, IReadOnlyCollection<BuildTarget> defaults,
        IReadOnlyList<BuildParameter> parameters, BuildBase build)
    {
        var sb = new StringBuilder();
        sb.AppendLine("Usage: build [<target>...] [options] [--<parameter> <value>...]");
        sb.AppendLine();
        sb.AppendLine("Targets (* = default):");
        var listed = catalog.Listed.ToList();
        var width = listed.Max(t => t.Name.Length) + 2;
        foreach (var t in listed)
        {
            var name = defaults.Contains(t) ? t.Name + " *" : t.Name;
            var text = t.Definition.DescriptionText ?? "";
            if (t.Definition.DeprecatedNames.Count > 0)
                text = (text + $" (was {string.Join(", ", t.Definition.DeprecatedNames)}, deprecated)").TrimStart();
            if (t.DependsOn.Count > 0)
                text = (text + $" (depends on: {string.Join(", ", t.DependsOn.Select(d => d.Name))})").TrimStart();
            sb.AppendLine($"  {name.PadRight(width)}  {text}".TrimEnd());
        }
        sb.AppendLine();
        sb.AppendLine("Options:");
        sb.AppendLine("  --target <name>...   Targets to run (same as naming them first)");
        sb.AppendLine("  --skip [<name>...]   Skip these targets; without names, skip all but the invoked ones");
        sb.AppendLine("  --plan               Print the execution plan and write a Mermaid graph; run nothing");
        sb.AppendLine("  --verbose            Show debug output and stack traces");
        sb.AppendLine("  --help, -h           Show this help");
        if (parameters.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine($"Parameters (command line, then environment variable, then {ParametersFile.RelativePath}):");
            var column = parameters.Max(p => p.OptionName.Length + p.ValueLabel.Length + 1) + 2;
            foreach (var p in parameters)
            {
                var text = p.Description;
                if (p.IsSecret) text += " (secret)";
                else if (BuildParameter.Display(p.GetValue(build)) is { } defaultValue) text += $" (default: {defaultValue})";
                sb.AppendLine($"  {(p.OptionName + " " + p.ValueLabel).PadRight(column)}  {text}".TrimEnd());
                var was = p.DeprecatedNames.Count == 0 ? "" : $"; was {string.Join(", ", p.DeprecatedOptionNames)}, deprecated";
                sb.AppendLine($"  {"".PadRight(column)}  env {p.EnvironmentName}, parameters.json \"{p.Name}\"{was}");
            }
        }
        return sb.ToString();
    }
}
