namespace BuildGraph;

/// <summary>
/// Marks a field or property of the build class as a parameter. Its command-line name is the kebab-case of the
/// member name (<c>RegistryPassword</c> → <c>--registry-password</c>); values come from the command line, then
/// environment variables, then <c>.nuke/parameters.json</c>; otherwise the member keeps its initializer.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class ParameterAttribute(string description) : Attribute
{
    public string Description { get; } = description;

    /// <summary>The parameter's name when it differs from the member's (<c>Name = "Environment"</c> → <c>--environment</c>).</summary>
    public string? Name { get; init; }

    /// <summary>Earlier names (<c>DeprecatedNames = ["Release"]</c> → <c>--release</c>, <c>RELEASE</c>) that still set this
    /// parameter for one release, each use with a warning that names the new one.</summary>
    public string[] DeprecatedNames { get; init; } = [];
}

/// <summary>The parameter's value is redacted as <c>***</c> in everything the build prints.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class SecretAttribute : Attribute;
