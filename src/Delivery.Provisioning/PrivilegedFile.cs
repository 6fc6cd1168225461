using Delivery.Core;

namespace Delivery.Provisioning;

/// <summary>Writes a file where only root may (such as /etc/docker/certs.d/&lt;host:port&gt;/ca.crt), under the same
/// rule as installing: root writes it, a sudo user writes it through <c>sudo -n</c>, anyone else gets one line.</summary>
public static class PrivilegedFile
{
    /// <summary>The command that writes standard input to <paramref name="path"/>, creating its folder; null without privilege.</summary>
    public static ProvisioningCommand? WriteCommand(Privilege privilege, string path) =>
        privilege.Elevate(["sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"", "sh", path]) is { } arguments
            ? new ProvisioningCommand(arguments)
            : null;

    public static async Task WriteAsync(Privilege privilege, string path, string content, CancellationToken cancellationToken = default)
    {
        var command = WriteCommand(privilege, path)
                      ?? throw new DeliveryException($"Writing {path} needs root: this user is not root and 'sudo -n true' fails");
        var result = await ProcessRunner.RunAsync(command.Arguments[0], command.Arguments.Skip(1), new ProcessOptions { StandardInput = content }, cancellationToken);
        if (!result.Succeeded) throw new DeliveryException($"Cannot write {path}: {result.StandardError.Trim()}");
    }
}
