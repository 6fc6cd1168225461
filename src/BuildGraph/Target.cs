using System.Linq.Expressions;

namespace BuildGraph;

/// <summary>
/// A build target, declared as a property: <c>Target Compile => _ => _.DependsOn(Restore).Executes(...)</c>.
/// The target's name is the property name; references between targets are resolved by delegate equality.
/// </summary>
public delegate ITargetDefinition Target(ITargetDefinition _);

/// <summary>The fluent definition of a target. Every method returns the same definition.</summary>
public interface ITargetDefinition
{
    ITargetDefinition Description(string description);

    /// <summary>Hides the target from <c>--help</c>; it can still be invoked.</summary>
    ITargetDefinition Unlisted();

    /// <summary>An earlier name of the target that still invokes (or skips) it for one release, with a warning that
    /// names the new one.</summary>
    ITargetDefinition DeprecatedName(string name);

    /// <summary>Pulls the targets in and runs them first.</summary>
    ITargetDefinition DependsOn(params Target[] targets);

    /// <summary>Runs after the targets when they are part of the same run; does not pull them in.</summary>
    ITargetDefinition After(params Target[] targets);

    /// <summary>Runs before the targets when they are part of the same run; does not pull them in.</summary>
    ITargetDefinition Before(params Target[] targets);

    /// <summary>Pulls the targets in and runs them after this one.</summary>
    ITargetDefinition Triggers(params Target[] targets);

    /// <summary>Evaluated once before any target runs; when false the target is skipped, and so are the
    /// dependencies that only it needed.</summary>
    ITargetDefinition OnlyWhenStatic(Expression<Func<bool>> condition);

    /// <summary>Evaluated just before the target runs; when false the target is skipped.</summary>
    ITargetDefinition OnlyWhenDynamic(Expression<Func<bool>> condition);

    /// <summary>Fails the build before any target runs when the value is null or empty.</summary>
    ITargetDefinition Requires(Expression<Func<object?>> value);

    /// <summary>Runs even though an earlier target failed, as long as its own dependencies succeeded.</summary>
    ITargetDefinition ProceedAfterFailure();

    /// <summary>Always runs, also after a failure or Ctrl-C.</summary>
    ITargetDefinition AssuredAfterFailure();

    ITargetDefinition Executes(Action action);

    ITargetDefinition Executes(Func<Task> action);
}

internal sealed class TargetDefinition : ITargetDefinition
{
    public string? DescriptionText { get; private set; }
    public bool IsUnlisted { get; private set; }
    public List<string> DeprecatedNames { get; } = [];
    public List<Target> DependsOnTargets { get; } = [];
    public List<Target> AfterTargets { get; } = [];
    public List<Target> BeforeTargets { get; } = [];
    public List<Target> TriggeredTargets { get; } = [];
    public List<Expression<Func<bool>>> StaticConditions { get; } = [];
    public List<Expression<Func<bool>>> DynamicConditions { get; } = [];
    public List<Expression<Func<object?>>> Requirements { get; } = [];
    public bool ProceedsAfterFailure { get; private set; }
    public bool IsAssured { get; private set; }
    public List<Func<Task>> Actions { get; } = [];

    public ITargetDefinition Description(string description) { DescriptionText = description; return this; }
    public ITargetDefinition Unlisted() { IsUnlisted = true; return this; }
    public ITargetDefinition DeprecatedName(string name) { DeprecatedNames.Add(name); return this; }
    public ITargetDefinition DependsOn(params Target[] targets) { DependsOnTargets.AddRange(targets); return this; }
    public ITargetDefinition After(params Target[] targets) { AfterTargets.AddRange(targets); return this; }
    public ITargetDefinition Before(params Target[] targets) { BeforeTargets.AddRange(targets); return this; }
    public ITargetDefinition Triggers(params Target[] targets) { TriggeredTargets.AddRange(targets); return this; }
    public ITargetDefinition OnlyWhenStatic(Expression<Func<bool>> condition) { StaticConditions.Add(condition); return this; }
    public ITargetDefinition OnlyWhenDynamic(Expression<Func<bool>> condition) { DynamicConditions.Add(condition); return this; }
    public ITargetDefinition Requires(Expression<Func<object?>> value) { Requirements.Add(value); return this; }
    public ITargetDefinition ProceedAfterFailure() { ProceedsAfterFailure = true; return this; }
    public ITargetDefinition AssuredAfterFailure() { IsAssured = true; return this; }

    public ITargetDefinition Executes(Action action)
    {
        Actions.Add(() => { action(); return Task.CompletedTask; });
        return this;
    }

    public ITargetDefinition Executes(Func<Task> action) { Actions.Add(action); return this; }
}
