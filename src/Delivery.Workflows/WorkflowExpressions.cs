namespace Delivery.Workflows;

/// <summary>GitHub Actions expression text used by the generator.</summary>
public static class WorkflowExpressions
{
    public static string Wrap(string expression) => "${{ " + expression + " }}";

    public static string Context(string context, string name) => Wrap($"{context}.{name}");

    public static string IsPushToBranch(string branch) =>
        $"github.ref == 'refs/heads/{branch}' && github.event_name == 'push'";

    public const string IsTag = "startsWith(github.ref, 'refs/tags/')";

    /// <summary>Pushes to the main branch and release tags publish; pull requests only build and test.</summary>
    public static string IsPublishingPush(string mainBranch) =>
        $"github.event_name == 'push' && (github.ref == 'refs/heads/{mainBranch}' || {IsTag})";
}
