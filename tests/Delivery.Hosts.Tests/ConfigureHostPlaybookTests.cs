using System.Text.RegularExpressions;
using Delivery.Core;
using Delivery.Hosts.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Delivery.Hosts.Tests;

/// <summary>The provisioning playbook, run for real on this machine (as root, connection local): a second run changes nothing.
/// It runs beside the deploy tests: it touches the packages and the packaged services, never a test bed's proxy or
/// containers (the project's apt resource keeps it apart from other projects' apt use).</summary>
public sealed class ConfigureHostPlaybookTests(ITestOutputHelper output)
{
    static string Playbook([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "ansible", "configure-host.yml"));

    [Fact]
    public async Task The_playbook_is_valid_and_idempotent()
    {
        var ansible = Tools.Require("ansible-playbook", "ansible-core");
        var privilege = await Delivery.Provisioning.Privileged.DetectAsync();
        Assert.True(privilege != Delivery.Provisioning.Privilege.None, "the playbook test provisions this machine: it needs root or password-less sudo");
        var root = Directory.CreateTempSubdirectory("hdt-ansible-").FullName;
        try
        {
            string[] args = ["-c", "local", "-i", "localhost,", Playbook(), "-e", $"webapp_state_root={root}/state",
                .. privilege == Delivery.Provisioning.Privilege.Sudo ? ["--become"] : Array.Empty<string>()];
            var options = new ProcessOptions { WorkingDirectory = Path.GetDirectoryName(Playbook()), Environment = new Dictionary<string, string?> { ["ANSIBLE_NOCOLOR"] = "1" } };

            var syntax = await ProcessRunner.RunAsync(ansible, [.. args, "--syntax-check"], options);
            Assert.True(syntax.Succeeded, syntax.StandardOutput + syntax.StandardError);

            var first = await ProcessRunner.RunAsync(ansible, args, options);
            Assert.True(first.Succeeded, first.StandardOutput + first.StandardError);
            Assert.True(Directory.Exists($"{root}/state/proxy"));

            var second = await ProcessRunner.RunAsync(ansible, args, options);
            Assert.True(second.Succeeded, second.StandardOutput + second.StandardError);
            var recap = Regex.Match(second.StandardOutput, @"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0");
            output.WriteLine(recap.Value);
            Assert.True(recap.Success, second.StandardOutput);
            Assert.Equal("0", recap.Groups[2].Value);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
