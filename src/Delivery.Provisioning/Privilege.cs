namespace Delivery.Provisioning;

/// <summary>How this process may run privileged steps: apt-get, starting dockerd, writing /etc/docker/certs.d.</summary>
public enum Privilege
{
    /// <summary>Neither root nor password-less sudo: privileged steps fail in one line that says what to run.</summary>
    None,

    /// <summary>Not root, but <c>sudo -n true</c> succeeds (GitHub's hosted runners): privileged steps go through <c>sudo -n</c>.</summary>
    Sudo,

    Root,
}

public static class PrivilegeExtensions
{
    /// <summary>The arguments that run <paramref name="command"/> with root rights, or null without privilege.</summary>
    public static IReadOnlyList<string>? Elevate(this Privilege privilege, IReadOnlyList<string> command) => privilege switch
    {
        Privilege.Root => command,
        Privilege.Sudo => ["sudo", "-n", .. command],
        _ => null,
    };

    public static string Describe(this Privilege privilege) => privilege switch
    {
        Privilege.Root => "root",
        Privilege.Sudo => "not root; sudo -n works",
        _ => "not root; no password-less sudo",
    };
}
