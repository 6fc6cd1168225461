using BuildGraph;
using Delivery.Hosts;

/// <summary>The release phase: a deploy runs the operator's command once in the new image before any switch.</summary>
partial class Build
{
    [Parameter("Release phase: a command (program and arguments) run once per deploy in the new image, before any switch (default: the environment's)")]
    readonly string? ReleaseCommand;

    [Parameter("Release phase: how long the release command may run before the deploy stops (90, 90s, 5m; default: the environment's)")]
    readonly TimeSpan? ReleaseCommandTimeout;

    ReleasePhaseSettings? ReleasePhaseFor(DeployEnvironment environment) =>
        (ReleaseCommand ?? environment.ReleaseCommand) is { Length: > 0 } command
            ? new ReleasePhaseSettings(command) { Timeout = ReleaseCommandTimeout ?? environment.ReleaseCommandTimeout }
            : null;
}
