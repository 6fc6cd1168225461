using System.Text;

namespace BuildGraph;

/// <summary>The <c>--plan</c> output: the execution order as text, and the target graph as a Mermaid flowchart.</summary>
internal static class PlanGraph
{
    public const string RelativePath = "artifacts/plan.mmd";

    public static string Text(ExecutionPlan plan)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Execution plan for {string.Join(", ", plan.Invoked.Select(t => t.Name))}:");
        var width = plan.Steps.Max(s => s.Name.Length);
        var number = 0;
        foreach (var step in plan.Steps)
        {
            number++;
            var line = $"  {number,2}. {step.Name.PadRight(width)}";
            if (step.SkipReason is not null) line += $"  skipped ({step.SkipReason})";
            sb.AppendLine(line.TrimEnd());
        }
        return sb.ToString();
    }

    /// <summary>All targets; solid arrows for dependencies, dotted for ordering, labelled for triggers. Planned
    /// targets are green, skipped ones grey.</summary>
    public static string Mermaid(TargetCatalog catalog, ExecutionPlan plan)
    {
        var sb = new StringBuilder();
        sb.AppendLine("flowchart LR");
        foreach (var t in catalog.Targets)
            sb.AppendLine($"  {t.Name}");
        foreach (var t in catalog.Targets)
        {
            foreach (var d in t.DependsOn) sb.AppendLine($"  {d.Name} --> {t.Name}");
            foreach (var d in t.After) sb.AppendLine($"  {d.Name} -.-> {t.Name}");
            foreach (var d in t.Before) sb.AppendLine($"  {t.Name} -.-> {d.Name}");
            foreach (var d in t.Triggers) sb.AppendLine($"  {t.Name} -.->|triggers| {d.Name}");
        }
        sb.AppendLine("  classDef planned fill:#d8f3dc,stroke:#2d6a4f");
        sb.AppendLine("  classDef skipped fill:#eeeeee,stroke:#999999,stroke-dasharray: 4 3");
        var planned = plan.Steps.Where(s => s.SkipReason is null).Select(s => s.Name).ToList();
        var skipped = plan.Steps.Where(s => s.SkipReason is not null).Select(s => s.Name).ToList();
        if (planned.Count > 0) sb.AppendLine($"  class {string.Join(",", planned)} planned");
        if (skipped.Count > 0) sb.AppendLine($"  class {string.Join(",", skipped)} skipped");
        return sb.ToString();
    }
}
