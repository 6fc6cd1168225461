using System.Collections;
using System.Linq.Expressions;

namespace BuildGraph;

internal sealed class PlannedTarget(BuildTarget target, bool invoked)
{
    public BuildTarget Target { get; } = target;
    public bool Invoked { get; } = invoked;

    /// <summary>Set when the target is skipped before the run starts.</summary>
    public string? SkipReason { get; set; }

    public string Name => Target.Name;
}

/// <summary>
/// Which targets run and in which order. Invoked targets pull in what they depend on and what they trigger;
/// After/Before only order targets that are part of the run anyway.
/// </summary>
internal sealed class ExecutionPlan
{
    readonly TargetCatalog catalog;
    readonly HashSet<BuildTarget> scheduled;

    ExecutionPlan(TargetCatalog catalog, IReadOnlyList<BuildTarget> invoked)
    {
        this.catalog = catalog;
        Invoked = invoked;
        scheduled = Closure(invoked);
        Steps = Order().Select(t => new PlannedTarget(t, invoked.Contains(t))).ToList();
    }

    public IReadOnlyList<BuildTarget> Invoked { get; }

    /// <summary>In execution order.</summary>
    public IReadOnlyList<PlannedTarget> Steps { get; }

    public static ExecutionPlan Create(TargetCatalog catalog, IReadOnlyList<BuildTarget> invoked)
    {
        ThrowOnCycle(catalog);
        return new ExecutionPlan(catalog, invoked);
    }

    /// <summary>Resolves target names (case-insensitive); an unknown one is an error listing the available targets.</summary>
    public static IReadOnlyList<BuildTarget> Resolve(TargetCatalog catalog, IEnumerable<string> names) =>
        names.Select(n => catalog.Find(n) ?? throw new BuildException(
            $"Unknown target '{n}'. Available targets: {string.Join(", ", catalog.Listed.Select(t => t.Name))}")).Distinct().ToList();

    /// <summary>The targets that must run before <paramref name="target"/> within <paramref name="among"/>.</summary>
    static IEnumerable<BuildTarget> Prerequisites(BuildTarget target, IEnumerable<BuildTarget> among, Func<BuildTarget, bool> isIncluded)
    {
        foreach (var t in target.DependsOn) yield return t;
        foreach (var t in target.After.Where(isIncluded)) yield return t;
        foreach (var t in among.Where(o => o.Before.Contains(target) && isIncluded(o))) yield return t;
        foreach (var t in among.Where(o => o.Triggers.Contains(target) && isIncluded(o))) yield return t;
    }

    static void ThrowOnCycle(TargetCatalog catalog)
    {
        var state = new Dictionary<BuildTarget, int>(); // 1 = on the path, 2 = done
        var path = new List<BuildTarget>();

        List<BuildTarget>? Visit(BuildTarget t)
        {
            state[t] = 1;
            path.Add(t);
            foreach (var p in Prerequisites(t, catalog.Targets, _ => true))
            {
                if (state.GetValueOrDefault(p) == 1) return path[path.IndexOf(p)..].Append(p).ToList();
                if (state.GetValueOrDefault(p) == 0 && Visit(p) is { } cycle) return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[t] = 2;
            return null;
        }

        foreach (var t in catalog.Targets)
        {
            if (state.GetValueOrDefault(t) != 0) continue;
            if (Visit(t) is not { } cycle) continue;
            // Start the cycle at its alphabetically first target so the message does not depend on the search.
            var ring = cycle.Take(cycle.Count - 1).ToList();
            var start = ring.IndexOf(ring.MinBy(x => x.Name, StringComparer.Ordinal)!);
            var rotated = ring.Skip(start).Concat(ring.Take(start)).ToList();
            rotated.Add(rotated[0]);
            throw new BuildException($"Cycle: {string.Join(" -> ", rotated.Select(x => x.Name))}");
        }
    }

    static HashSet<BuildTarget> Closure(IEnumerable<BuildTarget> roots)
    {
        var set = new HashSet<BuildTarget>();
        var queue = new Queue<BuildTarget>(roots);
        while (queue.TryDequeue(out var t))
        {
            if (!set.Add(t)) continue;
            foreach (var d in t.DependsOn.Concat(t.Triggers)) queue.Enqueue(d);
        }
        return set;
    }

    List<BuildTarget> Order()
    {
        var order = new List<BuildTarget>();
        var visited = new HashSet<BuildTarget>();

        void Visit(BuildTarget t)
        {
            if (!visited.Add(t)) return;
            foreach (var p in Prerequisites(t, catalog.Targets, scheduled.Contains)) Visit(p);
            order.Add(t);
            // Triggered targets run right after the target that triggers them (once their other prerequisites ran).
            foreach (var triggered in t.Triggers) Visit(triggered);
        }

        foreach (var t in Invoked) Visit(t);
        foreach (var t in catalog.Targets.Where(scheduled.Contains)) Visit(t);
        return order;
    }

    /// <summary>
    /// Marks the targets skipped by <c>--skip</c> (no names: all but the invoked ones) and by false static conditions,
    /// then the targets that were only needed by skipped ones.
    /// </summary>
    public void ApplySkips(bool skipAll, IReadOnlyCollection<BuildTarget> skipNamed)
    {
        foreach (var step in Steps)
            if ((skipAll && !step.Invoked) || skipNamed.Contains(step.Target))
                step.SkipReason = "--skip";

        foreach (var step in Steps.Where(s => s.SkipReason is null))
        {
            foreach (var condition in step.Target.Definition.StaticConditions)
            {
                if (Evaluate(condition, step.Name, "OnlyWhenStatic")) continue;
                step.SkipReason = "OnlyWhenStatic: " + ExpressionText.Of(condition);
                break;
            }
        }

        var skipped = Steps.Where(s => s.SkipReason is not null).Select(s => s.Target).ToHashSet();
        var needed = new HashSet<BuildTarget>();
        var queue = new Queue<BuildTarget>(Invoked.Where(t => !skipped.Contains(t)));
        while (queue.TryDequeue(out var t))
        {
            if (!needed.Add(t)) continue;
            foreach (var d in t.DependsOn.Concat(t.Triggers).Where(d => !skipped.Contains(d))) queue.Enqueue(d);
        }

        foreach (var step in Steps.Where(s => s.SkipReason is null && !needed.Contains(s.Target)))
        {
            var dependents = Steps.Select(s => s.Target)
                .Where(o => o.DependsOn.Contains(step.Target) || o.Triggers.Contains(step.Target))
                .Select(o => o.Name);
            step.SkipReason = $"Needed only by skipped {string.Join(", ", dependents)}";
        }
    }

    /// <summary>Throws one error naming every required value that is null or empty, before anything runs.</summary>
    public void CheckRequirements(IReadOnlyList<BuildParameter> parameters)
    {
        var missing = new List<(string Name, string Target)>();
        foreach (var step in Steps.Where(s => s.SkipReason is null))
        {
            foreach (var requirement in step.Target.Definition.Requirements)
            {
                object? value;
                try
                {
                    value = requirement.Compile(preferInterpretation: true)();
                }
                catch (Exception e)
                {
                    throw new BuildException($"Requires of target {step.Name} failed: {e.Message}");
                }
                if (!IsMissing(value)) continue;
                var member = ExpressionText.MemberName(requirement);
                var name = member is null ? ExpressionText.Of(requirement)
                    : parameters.FirstOrDefault(p => p.Member.Name == member)?.OptionName ?? "--" + Naming.Kebab(member);
                missing.Add((name, step.Name));
            }
        }
        if (missing.Count == 0) return;
        var groups = missing.GroupBy(m => m.Name).Select(g => $"{g.Key} (needed by {string.Join(", ", g.Select(m => m.Target).Distinct())})").ToList();
        throw new BuildException(groups.Count == 1
            ? $"Missing required parameter {groups[0]}"
            : $"Missing required parameters: {string.Join(", ", groups)}");
    }

    static bool IsMissing(object? value) => value switch
    {
        null => true,
        string s => string.IsNullOrWhiteSpace(s),
        ICollection c => c.Count == 0,
        _ => false,
    };

    public static bool Evaluate(Expression<Func<bool>> condition, string target, string kind)
    {
        try
        {
            return condition.Compile(preferInterpretation: true)();
        }
        catch (Exception e)
        {
            throw new BuildException($"{kind} of target {target} failed: {e.Message}");
        }
    }
}
