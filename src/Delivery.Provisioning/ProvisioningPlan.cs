using System.Text;

namespace Delivery.Provisioning;

/// <summary>One command of a plan, as an argument list (never a shell string).</summary>
public sealed record ProvisioningCommand(IReadOnlyList<string> Arguments)
{
    public override string ToString() => string.Join(" ", Arguments.Select(Quote));

    static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:+,@%".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}

/// <summary>A package to install and the requirements it satisfies.</summary>
public sealed record PackageInstall(string Package, IReadOnlyList<string> Provides);

/// <summary>What <see cref="ProvisioningPlanner.Plan"/> decided: what is there, what to install, the commands, or why not.</summary>
public sealed record ProvisioningPlan
{
    public required MachineState Machine { get; init; }

    /// <summary>What is already there and is used as it is.</summary>
    public IReadOnlyList<string> Have { get; init; } = [];

    public IReadOnlyList<PackageInstall> Install { get; init; } = [];

    /// <summary>Run in order; privileged ones already carry <c>sudo -n</c> when the user is not root.</summary>
    public IReadOnlyList<ProvisioningCommand> Commands { get; init; } = [];

    /// <summary>dockerd runs (or was just started) but may not answer yet.</summary>
    public bool WaitForEngine { get; init; }

    /// <summary>The Chromium-family browser the tests drive, passed to them as <see cref="ProvisioningPlanner.BrowserVariable"/>.</summary>
    public string? BrowserPath { get; init; }

    /// <summary>One line saying what is missing and why it cannot be installed here; null when the plan can run.</summary>
    public string? Failure { get; init; }

    public bool NothingToDo => Commands.Count == 0 && !WaitForEngine && Failure is null;

    public IEnumerable<string> Packages => Install.Select(i => i.Package);

    /// <summary>The plan as the build prints it, one decision per line.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append($"Provisioning plan for {Machine.Os.PrettyName}, user {Machine.User}" +
                    (Machine.Privilege == Privilege.Root ? "\n" : $" ({Machine.Privilege.Describe()})\n"));
        foreach (var line in Have) Line("have", line);
        if (Install.Count > 0)
            Line(Failure is null ? "install" : "missing", string.Join(", ", Install.Select(i =>
                i.Provides.SequenceEqual([i.Package]) ? i.Package : $"{i.Package} ({string.Join(", ", i.Provides)})")));
        foreach (var command in Commands) Line("run", command.ToString());
        if (WaitForEngine) Line("wait", $"until the engine answers at {Machine.Engine.Endpoint}");
        if (Failure is not null) Line("fail", Failure);
        else if (NothingToDo) Line("done", "nothing to install");
        return text.ToString();

        void Line(string verb, string what) => text.Append($"  {verb,-8} {what}\n");
    }
}
