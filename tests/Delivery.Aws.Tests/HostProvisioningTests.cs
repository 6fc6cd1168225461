using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Delivery.Aws.Tests;

/// <summary>ConfigureHost through SSM ships the repository's ansible/ folder inline in one AWS-RunShellScript command.</summary>
public sealed class HostProvisioningTests
{
    static readonly string Ansible = Path.Combine(FindRoot(), "ansible");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(Path.Combine(dir.FullName, "ansible")))
                return dir.FullName;
        throw new InvalidOperationException("no repository root above the test assembly");
    }

    static readonly Dictionary<string, string> Variables = new() { ["webapp_state_root"] = "/var/lib/webapp-deploy", ["webapp_app"] = "webapp" };

    [Fact]
    public void The_command_carries_the_whole_ansible_folder_and_fits_an_SSM_document()
    {
        var script = HostProvisioning.ConfigureScript(Ansible, checkIdempotence: true, Variables);

        var base64 = Regex.Match(script, "<<'ANSIBLE_ARCHIVE'\n(?<b>[A-Za-z0-9+/=\n]+)\nANSIBLE_ARCHIVE").Groups["b"].Value.Replace("\n", "");
        using var tar = new TarReader(new GZipStream(new MemoryStream(Convert.FromBase64String(base64)), CompressionMode.Decompress));
        var shipped = new Dictionary<string, string>();
        while (tar.GetNextEntry() is { } entry)
            shipped[entry.Name] = new StreamReader(entry.DataStream!).ReadToEnd();
        var files = Directory.EnumerateFiles(Ansible, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(Ansible, f), File.ReadAllText);

        Assert.Equal(files.Keys.Order(), shipped.Keys.Order());
        Assert.All(files, f => Assert.Equal(f.Value, shipped[f.Key]));
        Assert.Contains("roles/host_config/tasks/main.yml", shipped.Keys);
        Assert.True(SsmLimits.CommandBytes([HostCommand.Wrap(script)]) < SsmLimits.MaxCommandBytes / 4);
    }

    [Fact]
    public void Idempotence_is_checked_with_a_syntax_check_and_a_second_run_that_must_change_nothing()
    {
        var once = HostProvisioning.ConfigureScript(Ansible, checkIdempotence: false, Variables);
        var twice = HostProvisioning.ConfigureScript(Ansible, checkIdempotence: true, Variables);

        const string play = "ansible-playbook -c local -i localhost, \"$dir/configure-host.yml\" -e webapp_host_config=true -e 'webapp_state_root=/var/lib/webapp-deploy' -e 'webapp_app=webapp'";
        Assert.Single(Regex.Matches(once, Regex.Escape(play)));
        Assert.Equal(3, Regex.Matches(twice, Regex.Escape(play)).Count);
        Assert.Contains(play + " --syntax-check >/dev/null", twice);
        Assert.Contains("fail \"ConfigureHost is not idempotent: the second run changed $second tasks\"", twice);
        Assert.DoesNotContain("password", twice, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_shipped_playbook_passes_ansible_syntax_check()
    {
        var script = HostProvisioning.ConfigureScript(Ansible, checkIdempotence: false, Variables);
        // Everything up to the first playbook run: install check and unpacking, then a syntax check of what arrived.
        var head = script[..script.IndexOf("ansible-playbook -c local", StringComparison.Ordinal)];
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, head + "ansible-playbook -i localhost, \"$dir/configure-host.yml\" --syntax-check\n");
        try
        {
            var result = await Delivery.Core.ProcessRunner.RunAsync("bash", [file]);
            Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
            Assert.Contains("configure-host.yml", result.StandardOutput);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
