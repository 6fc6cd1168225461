using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Aws.TestEndpoint;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// ./build.sh ConfigureHost with SSM targets, for real: the AWS test endpoint runs the command on a fake instance
/// that has a root filesystem of its own (an overlay over this machine's /, see <see cref="FakeInstance.IsolateRoot"/>),
/// so the playbook installs and writes there while this machine's engine configuration stays as it is.
/// </summary>
[Collection(FleetCloneCollection.Name)]
public sealed class ConfigureHostFleetTests(CloneFixture clone) : CloneTests(clone)
{
    /// <summary>What ConfigureHost (and making the instance a fresh image) would change on this machine if it escaped the instance's root.</summary>
    static readonly string[] HostPaths = ["/etc/docker", "/etc/webapp-deploy", "/var/lib/webapp-deploy", "/root/.docker", "/etc/haproxy", "/etc/apt", "/usr/bin/ansible-playbook"];

    static string Fingerprint(string path)
    {
        if (File.Exists(path)) return $"{path} {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))}";
        if (!Directory.Exists(path)) return $"{path} (absent)";
        return string.Join("\n", Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories).Where(Ours).Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? Fingerprint(p) : $"{p}/"));
    }

    /// <summary>Everything but the CAs of loopback test registries: the TLS registries of tests running meanwhile
    /// (TestRegistry) install theirs as /etc/docker/certs.d/127.0.0.1:PORT and remove them (CI once saw one come and go
    /// during this test). ConfigureHost is given no registry here, so it has no reason to write one.</summary>
    static bool Ours(string path) => !path.StartsWith("/etc/docker/certs.d/127.0.0.1:", StringComparison.Ordinal);

    [Fact]
    public async Task ConfigureHost_runs_twice_on_an_isolated_instance_and_the_second_run_changes_nothing()
    {
        var directory = Directory.CreateTempSubdirectory("e2e-configure-").FullName;
        await using var endpoint = await AwsTestEndpoint.StartAsync();
        try
        {
            var instance = endpoint.AddInstance($"i-0c0f{Tools.NewRunId()}0000001");
            instance.IsolateRoot(Path.Combine(directory, "instance"));
            // As a fresh image: no ansible, and empty package lists (apt-get install alone would not find ansible-core).
            // Without man-db's auto-update flag, dpkg does not rebuild the man page index after the removal and the
            // install (mandb: about 4% of this project's CPU); nothing here reads man pages.
            var fresh = await Tools.Run(instance.Launcher[0], [.. instance.Launcher.Skip(1), "sh", "-c",
                "rm -f /var/lib/man-db/auto-update && dpkg --remove ansible-core >/dev/null && rm -rf /var/lib/apt/lists/* && ! command -v ansible-playbook"]);
            Assert.True(fresh.Succeeded, fresh.StandardOutput + fresh.StandardError);
            var before = string.Join("\n", HostPaths.Select(Fingerprint));
            var environment = new Dictionary<string, string?>
            {
                ["AWS_ACCESS_KEY_ID"] = AwsTestEndpoint.TemporaryAccessKey,
                ["AWS_SECRET_ACCESS_KEY"] = AwsTestEndpoint.TemporarySecretKey,
                ["AWS_SESSION_TOKEN"] = AwsTestEndpoint.SessionToken,
                ["AWS_PROFILE"] = null,
                ["AWS_ENDPOINT_URL"] = null,
                ["AWS_ENDPOINT_URL_SSM"] = endpoint.Url.ToString(),
                ["AWS_REGION"] = endpoint.Region,
                ["AWS_EC2_METADATA_DISABLED"] = "true",
            };
            // --environment staging: production has no targets here, and ConfigureHost must not configure this machine.
            string[] arguments = ["ConfigureHost", "--environment", "staging", "--staging-targets", instance.Id, "--execution-timeout", "15m"];

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var first = await Clone.BuildAsync(environment, arguments);
            var firstBuild = clock.Elapsed;
            var second = await Clone.BuildAsync(environment, arguments);
            var secondBuild = clock.Elapsed - firstBuild;

            BuildAssert.Succeeded(first);
            BuildAssert.Succeeded(second);
            var runs = new[] { first, second }.Select(run => run.OutputLines
                .Select(l => Regex.Match(l, $@"{instance.Id} \((?<system>[^)]*\)?)\): run 1 changed=(?<changed>\d+) in (?<seconds>[0-9.]+) s"))
                .Single(m => m.Success)).ToList();
            Console.WriteLine($"ConfigureHost on {instance.Id} ({runs[0].Groups["system"].Value}): " +
                              $"first build {firstBuild.TotalSeconds:0.0} s, playbook changed={runs[0].Groups["changed"].Value} in {runs[0].Groups["seconds"].Value} s; " +
                              $"second build {secondBuild.TotalSeconds:0.0} s, playbook changed={runs[1].Groups["changed"].Value} in {runs[1].Groups["seconds"].Value} s");
            var commands = endpoint.Invocations.Where(i => i.InstanceId == instance.Id).Select(i => i.CommandId).ToList();
            Assert.Equal(2, commands.Count);
            Assert.Contains("webapp-deploy: installing ansible-core with apt\n", endpoint.Output(commands[0], instance.Id));
            Assert.Contains("webapp-deploy: ansible-playbook is installed\n", endpoint.Output(commands[1], instance.Id));
            Assert.NotEqual("0", runs[0].Groups["changed"].Value);
            Assert.Equal("0", runs[1].Groups["changed"].Value);
            Assert.Equal("1 host(s) configured, changed=0", second.SummaryNote("ConfigureHost"));

            // The instance got its host configuration; this machine did not.
            var hostConfig = File.ReadAllText(Path.Combine(directory, "instance", "upper", "etc", "webapp-deploy", "host.env"));
            Assert.Contains("state_root=/var/lib/webapp-deploy\n", hostConfig);
            Assert.True(Directory.Exists(Path.Combine(directory, "instance", "upper", "var", "lib", "webapp-deploy", "proxy")));
            Assert.Equal(before, string.Join("\n", HostPaths.Select(Fingerprint)));
        }
        finally
        {
            Repository.DeleteDirectory(directory);
        }
    }
}
