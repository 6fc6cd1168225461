using System.Reflection;

namespace BuildGraph;

/// <summary>A target property of the build class, with its evaluated definition and resolved references.</summary>
internal sealed class BuildTarget(string name, Target target, TargetDefinition definition)
{
    public string Name { get; } = name;
    public Target Delegate { get; } = target;
    public TargetDefinition Definition { get; } = definition;
    public List<BuildTarget> DependsOn { get; } = [];
    public List<BuildTarget> After { get; } = [];
    public List<BuildTarget> Before { get; } = [];
    public List<BuildTarget> Triggers { get; } = [];
    public bool IsListed => !Definition.IsUnlisted;

    public override string ToString() => Name;
}

/// <summary>All targets of a build class.</summary>
internal sealed class TargetCatalog
{
    TargetCatalog(IReadOnlyList<BuildTarget> targets) => Targets = targets;

    /// <summary>Alphabetical.</summary>
    public IReadOnlyList<BuildTarget> Targets { get; }

    public IEnumerable<BuildTarget> Listed => Targets.Where(t => t.IsListed);

    public BuildTarget? Find(string name) =>
        Targets.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    public static IReadOnlyList<PropertyInfo> TargetProperties(Type buildType)
    {
        var properties = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
        for (var type = buildType; type is not null && type != typeof(BuildBase); type = type.BaseType)
        {
            const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var property in type.GetProperties(flags))
                if (property.PropertyType == typeof(Target) && property.GetIndexParameters().Length == 0)
                    properties.TryAdd(property.Name, property);
        }
        return properties.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    public static TargetCatalog Load(BuildBase build)
    {
        var targets = new List<BuildTarget>();
        foreach (var property in TargetProperties(build.GetType()))
        {
            var target = (Target?)property.GetValue(build)
                ?? throw new BuildException($"Target {property.Name} is null.");
            var definition = new TargetDefinition();
            try
            {
                target(definition);
            }
            catch (Exception e) when (e is not BuildException)
            {
                throw new BuildException($"The definition of target {property.Name} failed: {e.Message}");
            }
            targets.Add(new BuildTarget(property.Name, target, definition));
        }
        if (targets.Count == 0)
            throw new BuildException($"{build.GetType().Name} declares no targets (properties of type Target).");

        foreach (var t in targets)
            foreach (var old in t.Definition.DeprecatedNames)
                if (targets.FirstOrDefault(other => string.Equals(other.Name, old, StringComparison.OrdinalIgnoreCase)
                                                    || (other != t && other.Definition.DeprecatedNames.Contains(old, StringComparer.OrdinalIgnoreCase))) is { } clash)
                    throw new BuildException($"Target {t.Name}'s deprecated name {old} is {(clash.Name.Equals(old, StringComparison.OrdinalIgnoreCase) ? "a target" : $"also a deprecated name of {clash.Name}")}.");
        var catalog = new TargetCatalog(targets);
        foreach (var t in targets)
        {
            t.DependsOn.AddRange(catalog.Resolve(t, t.Definition.DependsOnTargets));
            t.After.AddRange(catalog.Resolve(t, t.Definition.AfterTargets));
            t.Before.AddRange(catalog.Resolve(t, t.Definition.BeforeTargets));
            t.Triggers.AddRange(catalog.Resolve(t, t.Definition.TriggeredTargets));
        }
        return catalog;
    }

    /// <summary>The names with each deprecated target name replaced by its target's name, and a warning for each.</summary>
    public IReadOnlyList<string> Canonical(IReadOnlyList<string> names, List<string> deprecations) =>
        names.Select(name =>
        {
            if (Find(name) is not null) return name;
            var renamed = Targets.FirstOrDefault(t => t.Definition.DeprecatedNames.Contains(name, StringComparer.OrdinalIgnoreCase));
            if (renamed is null) return name;
            deprecations.Add(Deprecation.Target(name, renamed.Name));
            return renamed.Name;
        }).ToList();

    /// <summary>Finds the target a delegate stands for: delegates of the same lambda on the same instance are equal.</summary>
    public BuildTarget? Of(Target target) => Targets.FirstOrDefault(t => t.Delegate.Equals(target));

    IEnumerable<BuildTarget> Resolve(BuildTarget owner, IEnumerable<Target> references) =>
        references.Select(r => r is null
            ? throw new BuildException($"Target {owner.Name} references a null target.")
            : Of(r) ?? throw new BuildException($"Target {owner.Name} references a target that is not a Target property of this build."))
        .Distinct();
}
