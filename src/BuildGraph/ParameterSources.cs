namespace BuildGraph;

/// <summary>Sets parameter members from the command line, then environment variables, then the parameters file.</summary>
internal static class ParameterSources
{
    /// <summary>The environment variable for a parameter: any variable whose letters and digits match the member
    /// name, case-insensitively (<c>REGISTRY_PASSWORD</c>, <c>registrypassword</c>, <c>Registry-Password</c>).</summary>
    public static (string Name, string Value)? FindVariable(BuildParameter p, IReadOnlyDictionary<string, string> variables) =>
        FindVariable(p.Key, p.EnvironmentName, variables);

    static (string Name, string Value)? FindVariable(string key, string conventionalName, IReadOnlyDictionary<string, string> variables)
    {
        var matches = variables.Where(v => v.Value.Length > 0 && Naming.Key(v.Key) == key)
            .OrderBy(v => v.Key == conventionalName ? 0 : 1).ThenBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => (v.Key, v.Value)).ToList();
        return matches.Count == 0 ? null : matches[0];
    }

    /// <summary>Registers every value a secret parameter could take, before anything is parsed or printed.</summary>
    public static void RegisterSecrets(IReadOnlyList<BuildParameter> parameters, IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string> variables, ParametersFile? file, SecretRedactor redactor)
    {
        foreach (var value in BuildCommandLine.SecretValues(args, parameters)) redactor.Add(value);
        foreach (var p in parameters.Where(p => p.IsSecret))
        {
            foreach (var key in p.DeprecatedNames.Select(Naming.Key).Prepend(p.Key))
            {
                foreach (var v in variables.Where(v => Naming.Key(v.Key) == key)) redactor.Add(v.Value);
                if (file?.Find(key) is { } entry)
                    foreach (var v in entry.Values) redactor.Add(v);
            }
        }
    }

    /// <summary>Sets each parameter from its first source; a value found under a deprecated name adds a warning to
    /// <paramref name="deprecations"/>.</summary>
    public static void Inject(BuildBase build, IReadOnlyList<BuildParameter> parameters, BuildInvocation invocation,
        IReadOnlyDictionary<string, string> variables, ParametersFile file, SecretRedactor redactor, List<string> deprecations)
    {
        foreach (var p in parameters)
        {
            if (invocation.Values.TryGetValue(p, out var cli))
                p.SetValue(build, p.Convert(cli, null));
            else if (FindVariable(p, variables) is { } variable)
                p.SetValue(build, p.Convert(p.IsArray ? SplitList(variable.Value) : [variable.Value], $"environment variable {variable.Name}"));
            else if (file.Find(p.Key) is { } entry)
                p.SetValue(build, p.Convert(entry.Values, ParametersFile.RelativePath));
            else if (p.DeprecatedNames.Select(n => FindVariable(Naming.Key(n), Naming.EnvironmentName(n), variables)).FirstOrDefault(v => v is not null) is { } old)
            {
                deprecations.Add(Deprecation.Parameter($"Environment variable {old.Name}", p.EnvironmentName));
                p.SetValue(build, p.Convert(p.IsArray ? SplitList(old.Value) : [old.Value], $"environment variable {old.Name}"));
            }
            else if (p.DeprecatedNames.Select(n => file.Find(Naming.Key(n))).FirstOrDefault(e => e is not null) is { } oldEntry)
            {
                deprecations.Add(Deprecation.Parameter($"{ParametersFile.RelativePath} key '{oldEntry.Name}'", $"'{p.Name}'"));
                p.SetValue(build, p.Convert(oldEntry.Values, ParametersFile.RelativePath));
            }

            if (p.IsSecret)
                foreach (var text in SecretTexts(p.GetValue(build))) redactor.Add(text);
        }
    }

    static IReadOnlyList<string> SplitList(string value) =>
        value.Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);

    static IEnumerable<string> SecretTexts(object? value) => value switch
    {
        null => [],
        string s => [s],
        Array a => a.Cast<object?>().SelectMany(SecretTexts),
        _ => [],
    };
}
