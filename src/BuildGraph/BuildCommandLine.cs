using System.CommandLine;

namespace BuildGraph;

/// <summary>What the command line asked for.</summary>
internal sealed record BuildInvocation(
    IReadOnlyList<string> Targets,
    bool SkipGiven,
    IReadOnlyList<string> Skip,
    bool Help,
    bool Plan,
    bool Verbose,
    IReadOnlyDictionary<BuildParameter, IReadOnlyList<string>> Values,
    IReadOnlyList<string> Deprecations);

/// <summary>
/// The command line, built from the build class: positional target names, the fixed options, and one option per
/// parameter. Values are kept as text here; <see cref="BuildParameter.Convert"/> gives the errors their wording.
/// </summary>
internal static class BuildCommandLine
{
    static readonly string[] Reserved = ["target", "skip", "plan", "verbose", "help"];

    public static BuildInvocation Parse(IReadOnlyList<string> args, IReadOnlyList<BuildParameter> parameters)
    {
        var root = new RootCommand("Runs build targets.");
        root.Options.Clear();
        root.Directives.Clear();

        var targets = new Argument<string[]>("targets") { Arity = ArgumentArity.ZeroOrMore };
        var target = new Option<string[]>("--target") { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var skip = new Option<string[]>("--skip") { Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var plan = new Option<bool>("--plan");
        var verbose = new Option<bool>("--verbose");
        var help = new Option<bool>("--help", "-h", "-?");
        root.Add(targets);
        foreach (var option in new Option[] { target, skip, plan, verbose, help }) root.Add(option);

        var options = new Dictionary<BuildParameter, Option>();
        foreach (var p in parameters)
        {
            if (Reserved.Contains(p.CliName))
                throw new BuildException($"Parameter {p.Name} clashes with the built-in option --{p.CliName}; rename it.");
            Option option = p.IsFlag ? new Option<bool>(p.OptionName)
                : p.IsArray ? new Option<string[]>(p.OptionName) { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true }
                : new Option<string>(p.OptionName);
            foreach (var old in p.DeprecatedOptionNames) option.Aliases.Add(old);
            options[p] = option;
            root.Add(option);
        }

        var result = root.Parse(args);
        var wantsHelp = result.GetValue(help);
        if (!wantsHelp && result.Errors.Count > 0)
            throw new BuildException($"{result.Errors[0].Message} Run with --help to see the targets and parameters.");

        var positional = result.GetValue(targets) ?? [];
        if (!wantsHelp && positional.FirstOrDefault(t => t.StartsWith('-')) is { } unknown)
            throw new BuildException($"Unknown option '{unknown}'. Run with --help to see the targets and parameters.");

        var values = new Dictionary<BuildParameter, IReadOnlyList<string>>();
        var deprecations = new List<string>();
        foreach (var (p, option) in options)
        {
            if (result.GetResult(option) is not { } given) continue;
            if (given.IdentifierToken?.Value is { } spelled && p.DeprecatedOptionNames.Contains(spelled, StringComparer.OrdinalIgnoreCase))
                deprecations.Add(Deprecation.Parameter(spelled, p.OptionName));
            values[p] = option switch
            {
                Option<bool> flag => [result.GetValue(flag) ? "true" : "false"],
                Option<string[]> many => result.GetValue(many) ?? [],
                Option<string> one => [result.GetValue(one) ?? ""],
                _ => [],
            };
        }

        return new BuildInvocation(
            positional.Concat(result.GetValue(target) ?? []).ToList(),
            result.GetResult(skip) is not null,
            result.GetValue(skip) ?? [],
            wantsHelp,
            result.GetValue(plan),
            result.GetValue(verbose),
            values,
            deprecations);
    }

    /// <summary>
    /// The raw values given to secret parameters, found before parsing so that even a parse error that echoes a
    /// token cannot print a secret.
    /// </summary>
    public static IEnumerable<string> SecretValues(IReadOnlyList<string> args, IReadOnlyList<BuildParameter> parameters)
    {
        // A token is an option only when it names a known one, as System.CommandLine decides; so "-s3cr3t" after
        // --registry-password is that secret's value and must be registered too.
        var known = Reserved.Select(r => "--" + r).Concat(["-h", "-?"]).Concat(parameters.SelectMany(p => p.DeprecatedOptionNames.Prepend(p.OptionName))).ToList();
        bool IsOption(string token) => known.Any(name => token.Equals(name, StringComparison.OrdinalIgnoreCase)
            || (token.Length > name.Length && token.StartsWith(name, StringComparison.OrdinalIgnoreCase) && token[name.Length] is '=' or ':'));

        var secrets = parameters.Where(p => p.IsSecret).ToList();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var (p, name) = secrets.SelectMany(s => s.DeprecatedOptionNames.Prepend(s.OptionName).Select(n => (Parameter: s, Name: n)))
                .FirstOrDefault(s => arg.StartsWith(s.Name, StringComparison.OrdinalIgnoreCase));
            if (p is null) continue;
            if (arg.Length > name.Length && arg[name.Length] is '=' or ':')
            {
                yield return arg[(name.Length + 1)..];
                continue;
            }
            if (arg.Length != name.Length) continue;
            var last = p.IsArray ? args.Count - 1 : i + 1;
            for (var j = i + 1; j <= last && j < args.Count && !IsOption(args[j]); j++)
                yield return args[j];
        }
    }
}
