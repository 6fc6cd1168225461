using Delivery.Core;

namespace Delivery.Provisioning;

/// <summary>Runs a plan: one-line failure when it cannot run, otherwise each command in order, printed first.</summary>
public static class Provisioner
{
    public static async Task ApplyAsync(ProvisioningPlan plan, Action<string> log, CancellationToken cancellationToken = default)
    {
        if (plan.Failure is not null) throw new DeliveryException(plan.Failure);
        if (plan.Install.Count > 0) log($"Installing {string.Join(", ", plan.Packages)}");
        foreach (var command in plan.Commands)
        {
            log($"> {command}");
            var result = await ProcessRunner.RunAsync(command.Arguments[0], command.Arguments.Skip(1), new ProcessOptions { OnOutput = log }, cancellationToken);
            if (!result.Succeeded)
                throw new DeliveryException($"'{command}' exited with code {result.ExitCode}: {LastLine(result)}");
        }
    }

    static string LastLine(ProcessResult result) =>
        (result.StandardError + "\n" + result.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .LastOrDefault() ?? "no output";
}

/// <summary>How to reach the Docker Engine, from the caller's client: this library has no Docker client of its own.</summary>
public sealed record EngineProbe(string Endpoint, bool IsLocal, Func<CancellationToken, Task<bool>> PingAsync);

/// <summary>Survey, plan, print, run, verify: what <c>./build.sh</c> does before targets that need tools.</summary>
public static class MachineProvisioning
{
    static readonly TimeSpan EngineStartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Returns the plan that ran. A second call on a provisioned machine plans nothing and runs nothing.</summary>
    public static async Task<ProvisioningPlan> EnsureAsync(IEnumerable<Requirement> needs, EngineProbe engine, Action<string> log,
        CancellationToken cancellationToken = default)
    {
        var wanted = needs.ToList();
        var plan = ProvisioningPlanner.Plan(await SurveyAsync(engine, wanted, cancellationToken), wanted);
        foreach (var line in plan.Describe().TrimEnd('\n').Split('\n')) log(line);
        await Provisioner.ApplyAsync(plan, log, cancellationToken);
        if (plan.WaitForEngine) await WaitForEngineAsync(engine, cancellationToken);
        if (plan.NothingToDo) return plan;

        var after = ProvisioningPlanner.Plan(await SurveyAsync(engine, wanted, cancellationToken), wanted);
        if (after.Failure is not null || after.Install.Count > 0 || after.Commands.Count > 0)
            throw new DeliveryException($"Still missing after provisioning: {after.Failure ?? string.Join(", ", after.Packages.DefaultIfEmpty("the Docker Engine"))}");
        return plan with { BrowserPath = after.BrowserPath };
    }

    static async Task<MachineState> SurveyAsync(EngineProbe engine, IReadOnlyList<Requirement> needs, CancellationToken cancellationToken)
    {
        var answers = needs.Contains(Requirement.Engine) && await engine.PingAsync(cancellationToken);
        return await MachineSurvey.TakeAsync(new EngineState(answers, engine.Endpoint, engine.IsLocal), cancellationToken);
    }

    static async Task WaitForEngineAsync(EngineProbe engine, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + EngineStartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await engine.PingAsync(cancellationToken)) return;
            await Task.Delay(250, cancellationToken);
        }
        var log = ProvisioningPlanner.DaemonLog;
        var tail = File.Exists(log) ? string.Join(" | ", File.ReadLines(log).Where(l => l.Trim().Length > 0).TakeLast(2)) : "no log";
        throw new DeliveryException($"Docker Engine did not answer at {engine.Endpoint} within {EngineStartTimeout.TotalSeconds:0} s: {tail}");
    }
}
