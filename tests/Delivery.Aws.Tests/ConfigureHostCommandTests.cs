using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Delivery.Hosts;
using Delivery.Hosts.Scripts;

namespace Delivery.Aws.Tests;

/// <summary>ConfigureHost through SSM: the repository's ansible/ folder travels in the values header of one
/// AWS-RunShellScript command, which must stay well inside SSM's document limit.</summary>
public sealed class ConfigureHostCommandTests
{
    static readonly string Ansible = Path.Combine(FindRoot(), "ansible");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(Path.Combine(dir.FullName, "ansible")))
                return dir.FullName;
        throw new InvalidOperationException("no repository root above the test assembly");
    }

    static string Script(bool twice) => HostScripts.ConfigureHost(new HostSettings { ReadsHostConfig = true },
        new HostConfigurationSettings { PlaybookArchive = HostConfigurationSettings.Archive(Ansible), CheckIdempotence = twice });

    [Fact]
    public void The_command_carries_the_whole_ansible_folder_and_fits_an_SSM_document()
    {
        var script = Script(twice: true);

        var base64 = Regex.Match(script, "^playbook_archive='(?<b>[A-Za-z0-9+/=]+)'$", RegexOptions.Multiline).Groups["b"].Value;
        using var tar = new TarReader(new GZipStream(new MemoryStream(Convert.FromBase64String(base64)), CompressionMode.Decompress));
        var shipped = new Dictionary<string, string>();
        while (tar.GetNextEntry() is { } entry)
            shipped[entry.Name] = new StreamReader(entry.DataStream!).ReadToEnd();
        var files = Directory.EnumerateFiles(Ansible, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(Ansible, f), File.ReadAllText);

        Assert.Equal(files.Keys.Order(), shipped.Keys.Order());
        Assert.All(files, f => Assert.Equal(f.Value, shipped[f.Key]));
        Assert.Contains("roles/host_config/tasks/main.yml", shipped.Keys);
        // Room for the playbook to grow several times over before it needs S3.
        Assert.InRange(SsmLimits.CommandBytes([HostCommand.Wrap(script)]), 1, SsmLimits.MaxCommandBytes / 3);
    }

    [Fact]
    public void A_fleet_host_gets_its_host_configuration_written_and_the_default_state_root()
    {
        Assert.Matches("(?m)^playbook_variables=\\(.*'webapp_state_root=/var/lib/webapp-deploy'.*'webapp_host_config=true'\\)$", Script(twice: false));
        Assert.EndsWith("\nunpack_playbook\nrun_playbook 1\n", Script(twice: false));
        Assert.EndsWith("\nunpack_playbook\ncheck_playbook_syntax\nrun_playbook 1\ncheck_idempotent\n", Script(twice: true));
    }
}
