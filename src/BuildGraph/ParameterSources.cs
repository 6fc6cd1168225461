namespace BuildGraph;

/// <summary>Sets parameter members from the command line, then environment variables, then the parameters file.</summary>
internal static class ParameterSources
{
    /// <summary>The environment variable for a parameter: any variable whose letters and digits match the member
    /// name, case-insensitively (<c>REGISTRY_PASSWORD</c>, <c>registrypassword</c>, <c>Registry-Password</c>).</summary>
    public static (string Name, string Value)? FindVariable(BuildParameter p, IReadOnlyDictionary<string, string> variables)
    {
        var matches = variables.Where(v => v.Value.Length > 0 && Naming.Key(v.Key) == p.Key)
            .OrderBy(v => v.Key == p.EnvironmentName ? 0 : 1).ThenBy(v => v.Key, StringComparer.Ordinal)
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
            foreach (var v in variables.Where(v => Naming.Key(v.Key) == p.Key)) redactor.Add(v.Value);
            if (file?.Find(p.Key) is { } entry)
                foreach (var v in entry.Values) redactor.Add(v);
        }
    }

    public static void Inject(BuildBase build, IReadOnlyList<BuildParameter> parameters, BuildInvocation invocation,
        IReadOnlyDictionary<string, string> variables, ParametersFile file, SecretRedactor redactor)
    {
        foreach (var p in parameters)
        {
            if (invocation.Values.TryGetValue(p, out var cli))
                p.SetValue(build, p.Convert(cli, null));
            else if (FindVariable(p, variables) is { } variable)
                p.SetValue(build, p.Convert(p.IsArray ? SplitList(variable.Value) : [variable.Value], $"environment variable {variable.Name}"));
            else if (file.Find(p.Key) is { } entry)
                p.SetValue(build, p.Convert(entry.Values, ParametersFile.RelativePath));

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
