using Delivery.Core;

namespace Delivery.Provisioning;

/// <summary>Privileged steps outside a plan (a test's private dockerd, its bridge, a playbook run) under the same
/// rule: root runs them, a sudo user runs them through <c>sudo -n</c>, anyone else gets one line.</summary>
public static class Privileged
{
    static Privilege? detected;

    public static async Task<Privilege> DetectAsync(CancellationToken cancellationToken = default) =>
        detected ??= await MachineSurvey.DetectPrivilegeAsync(cancellationToken);

    /// <summary>The argument list that runs <paramref name="command"/> as root; <paramref name="what"/> names the step in the failure.</summary>
    public static async Task<IReadOnlyList<string>> CommandAsync(string what, params string[] command) =>
        (await DetectAsync()).Elevate(command)
        ?? throw new DeliveryException($"{what} needs root: this user ({Environment.UserName}) is not root and 'sudo -n true' fails");

    public static async Task<ProcessResult> RunCheckedAsync(string what, params string[] command)
    {
        var arguments = await CommandAsync(what, command);
        return await ProcessRunner.RunCheckedAsync(arguments[0], arguments.Skip(1));
    }

    /// <summary>As <see cref="RunCheckedAsync"/>, for clean-up that may find nothing to do: the exit code is the caller's to read.</summary>
    public static async Task<ProcessResult> RunAsync(string what, params string[] command)
    {
        var arguments = await CommandAsync(what, command);
        return await ProcessRunner.RunAsync(arguments[0], arguments.Skip(1));
    }
}
