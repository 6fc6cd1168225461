using System.Text.RegularExpressions;
using Delivery.Core;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Tests;

/// <summary>
/// The ConfigureHost script, run for real under bash on each supported system's os-release (Fixtures/os-release,
/// as the systems ship it). The package tools, cloud-init and ansible-playbook are stubs that log how they were
/// called, so each test pins the plan the script computed for that system: the commands, in order.
/// </summary>
public sealed class ConfigureHostScriptTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("hdt-configure-").FullName;
    string Bin => Path.Combine(dir, "bin");
    string CallLog => Path.Combine(dir, "calls.log");

    /// <summary>What the script may find on PATH besides the stubs: the real programs it uses.</summary>
    static readonly string[] RealPrograms =
        ["bash", "sh", "sed", "awk", "tail", "tr", "cat", "stat", "find", "mktemp", "base64", "tar", "gzip", "rm", "date", "sleep", "id", "timeout", "env", "mkdir", "head", "grep", "flock", "cp", "chmod", "wc"];

    static readonly HostSettings Host = new() { StateRoot = "/srv/deploy" };

    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "os-release", name);

    public ConfigureHostScriptTests()
    {
        Directory.CreateDirectory(Bin);
        foreach (var program in RealPrograms)
            if (FindReal(program) is { } real) File.CreateSymbolicLink(Path.Combine(Bin, program), real);
        var playbook = Directory.CreateDirectory(Path.Combine(dir, "ansible"));
        File.WriteAllText(Path.Combine(playbook.FullName, "configure-host.yml"), "- hosts: all\n");
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static string? FindReal(string program) =>
        new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" }.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>A stub program: logs its name and arguments, then runs <paramref name="body"/>.</summary>
    void Stub(string name, string body = "") =>
        Executable(Path.Combine(Bin, name), $"#!/bin/bash\nprintf '%s\\n' \"{name} $*\" >> {ShellQuote.Quote(CallLog)}\n{body}\n");

    static void Executable(string path, string text)
    {
        File.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    /// <summary>ansible-playbook: the first run changes <paramref name="firstChanged"/> tasks, later runs change <paramref name="laterChanged"/>.</summary>
    string AnsibleStub(int firstChanged = 4, int laterChanged = 0) => $$"""
        case " $* " in *' --syntax-check '*) echo 'playbook: configure-host.yml'; exit 0 ;; esac
        runs={{ShellQuote.Quote(Path.Combine(dir, "runs"))}}
        echo x >> "$runs"
        if [ "$(wc -l < "$runs")" = 1 ]; then changed={{firstChanged}}; else changed={{laterChanged}}; fi
        echo "PLAY RECAP *********"
        echo "localhost                  : ok=14   changed=$changed    unreachable=0    failed=0    skipped=6    rescued=0    ignored=0"
        """;

    /// <summary>A package manager that installs ansible-core by putting the ansible-playbook stub on PATH, and the
    /// AWS CLI (awscli, awscli-2, the aws-cli snap) by putting an aws stub there.</summary>
    void PackageManagerStub(string name) =>
        Stub(name, $"""
            case " $* " in
              *' install '*ansible-core*) cp {ShellQuote.Quote(Path.Combine(dir, "ansible-playbook.stub"))} {ShellQuote.Quote(Path.Combine(Bin, "ansible-playbook"))}; chmod +x {ShellQuote.Quote(Path.Combine(Bin, "ansible-playbook"))} ;;
              *' install '*awscli*|*' install aws-cli '*) printf '#!/bin/sh\n' > {ShellQuote.Quote(Path.Combine(Bin, "aws"))}; chmod +x {ShellQuote.Quote(Path.Combine(Bin, "aws"))} ;;
            esac
            """);

    void FreshMachine(string packageManager)
    {
        Stub("cloud-init");
        if (packageManager == "apt") { PackageManagerStub("apt-get"); Stub("dpkg"); PackageManagerStub("snap"); }
        else PackageManagerStub("dnf");
        File.WriteAllText(Path.Combine(dir, "ansible-playbook.stub"), $"#!/bin/bash\nprintf '%s\\n' \"ansible-playbook $*\" >> {ShellQuote.Quote(CallLog)}\n{AnsibleStub()}\n");
    }

    HostConfigurationSettings Settings(string osRelease, bool twice = true) => new()
    {
        PlaybookArchive = HostConfigurationSettings.Archive(Path.Combine(dir, "ansible")),
        OsReleaseFile = Fixture(osRelease),
        CheckIdempotence = twice,
        PackageLockWait = TimeSpan.FromSeconds(3),
        CloudInitWait = TimeSpan.FromSeconds(5),
    };

    async Task<(HostResult Result, string Calls)> Run(string script)
    {
        var file = Path.Combine(dir, "configure.sh");
        await File.WriteAllTextAsync(file, script);
        var run = await ProcessRunner.RunAsync(Path.Combine(Bin, "bash"), [file], new ProcessOptions
        {
            Environment = new Dictionary<string, string?> { ["PATH"] = Bin, ["TMPDIR"] = dir, ["HOME"] = null },
        });
        var result = new HostResult(run.ExitCode, (run.StandardOutput + run.StandardError).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var calls = File.Exists(CallLog) ? await File.ReadAllTextAsync(CallLog) : "";
        return (result, Regex.Replace(calls.Replace(dir, "$TMP"), "webapp-configure-[A-Za-z0-9]{8}", "webapp-configure-XXXXXXXX"));
    }

    const string Play = "ansible-playbook -c local -i localhost, $TMP/webapp-configure-XXXXXXXX/configure-host.yml -e webapp_state_root=/srv/deploy " +
                        "-e webapp_app=webapp -e webapp_staging_port=8081 -e webapp_production_port=8080 -e webapp_host_config=false";

    [Theory]
    [InlineData("ubuntu-22.04", "Ubuntu 22.04.5 LTS")]
    [InlineData("ubuntu-24.04", "Ubuntu 24.04.1 LTS")]
    [InlineData("debian-12", "Debian GNU/Linux 12 (bookworm)")]
    public async Task A_fresh_apt_system_waits_for_cloud_init_refreshes_the_lists_installs_ansible_and_runs_the_playbook_twice(string osRelease, string system)
    {
        FreshMachine("apt");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings(osRelease)));

        Assert.True(result.Succeeded, string.Join("\n", result.Lines));
        Assert.Equal($"""
            cloud-init status --wait
            dpkg --configure -a
            apt-get -o DPkg::Lock::Timeout=3 -y -qq update
            apt-get -o DPkg::Lock::Timeout=3 -y -qq install --no-install-recommends ansible-core
            {Play} --syntax-check
            {Play}
            {Play}

            """, calls);
        var runs = new HostOutput(result).Configured;
        Assert.Equal([(1, 4), (2, 0)], runs.Select(r => (r.Run, r.Changed)));
        Assert.All(runs, r => Assert.Equal(system, r.System));
        Assert.Contains($"webapp-deploy: system: {system} (packages through apt)", result.Lines);
    }

    [Fact]
    public async Task Amazon_Linux_2023_refreshes_and_installs_through_dnf()
    {
        FreshMachine("dnf");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings("amzn-2023", twice: false)));

        Assert.True(result.Succeeded, string.Join("\n", result.Lines));
        Assert.Equal($"""
            cloud-init status --wait
            dnf -q -y makecache
            dnf -q -y install ansible-core
            {Play}

            """, calls);
        Assert.Equal("Amazon Linux 2023.6.20241212", Assert.Single(new HostOutput(result).Configured).System);
    }

    [Fact]
    public async Task A_host_with_ansible_and_without_cloud_init_installs_nothing()
    {
        Executable(Path.Combine(Bin, "ansible-playbook"), $"#!/bin/bash\nprintf '%s\\n' \"ansible-playbook $*\" >> {ShellQuote.Quote(CallLog)}\n{AnsibleStub(0)}\n");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings("debian-12", twice: false)));

        Assert.True(result.Succeeded, string.Join("\n", result.Lines));
        Assert.Equal(Play + "\n", calls);
    }

    /// <summary>Hosts that read a password registry's login from Parameter Store get the AWS CLI, per system: the
    /// apt package where there is one, the snap on Ubuntu 24.04 (no package), awscli-2 on Amazon Linux 2023.</summary>
    [Theory]
    [InlineData("debian-12", "apt-get -o DPkg::Lock::Timeout=3 -y -qq install --no-install-recommends awscli", "installing the AWS CLI (awscli) with apt")]
    [InlineData("ubuntu-22.04", "apt-get -o DPkg::Lock::Timeout=3 -y -qq install --no-install-recommends awscli", "installing the AWS CLI (awscli) with apt")]
    [InlineData("ubuntu-24.04", "snap install aws-cli --classic", "installing the AWS CLI (snap aws-cli, classic)")]
    [InlineData("amzn-2023", "dnf -q -y install awscli-2", "installing the AWS CLI (awscli-2) with dnf")]
    public async Task A_fresh_host_that_reads_a_registry_login_gets_the_AWS_CLI_its_system_provides(string osRelease, string install, string said)
    {
        var dnf = osRelease.StartsWith("amzn", StringComparison.Ordinal);
        FreshMachine(dnf ? "dnf" : "apt");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings(osRelease, twice: false), awsCli: true));

        Assert.True(result.Succeeded, string.Join("\n", result.Lines));
        var packages = dnf
            ? "dnf -q -y makecache\ndnf -q -y install ansible-core\n"
            : "dpkg --configure -a\napt-get -o DPkg::Lock::Timeout=3 -y -qq update\napt-get -o DPkg::Lock::Timeout=3 -y -qq install --no-install-recommends ansible-core\n";
        Assert.Equal($"cloud-init status --wait\n{packages}{install}\n{Play}\n", calls);
        Assert.Contains($"webapp-deploy: {said}", result.Lines);
    }

    [Fact]
    public async Task A_host_with_ansible_refreshes_the_lists_once_before_installing_the_AWS_CLI()
    {
        FreshMachine("apt");
        Executable(Path.Combine(Bin, "ansible-playbook"), $"#!/bin/bash\nprintf '%s\\n' \"ansible-playbook $*\" >> {ShellQuote.Quote(CallLog)}\n{AnsibleStub(0)}\n");
        File.Delete(Path.Combine(Bin, "cloud-init"));

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings("debian-12", twice: false), awsCli: true));

        Assert.True(result.Succeeded, string.Join("\n", result.Lines));
        Assert.Equal($"""
            dpkg --configure -a
            apt-get -o DPkg::Lock::Timeout=3 -y -qq update
            apt-get -o DPkg::Lock::Timeout=3 -y -qq install --no-install-recommends awscli
            {Play}

            """, calls);
    }

    [Theory]
    [InlineData("ubuntu-24.04")]
    [InlineData("amzn-2023")]
    public async Task A_host_that_has_the_AWS_CLI_installs_nothing_for_it(string osRelease)
    {
        Executable(Path.Combine(Bin, "ansible-playbook"), $"#!/bin/bash\nprintf '%s\\n' \"ansible-playbook $*\" >> {ShellQuote.Quote(CallLog)}\n{AnsibleStub(0)}\n");
        Stub("aws");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings(osRelease, twice: false), awsCli: true));

        Assert.True(result.Succeeded, string.Join("\n", result.Lines));
        Assert.Equal(Play + "\n", calls);
        Assert.Contains("webapp-deploy: the AWS CLI is installed", result.Lines);
    }

    [Theory]
    [InlineData("amzn-2", "Amazon Linux 2 (amzn 2)")]
    [InlineData("ubuntu-20.04", "Ubuntu 20.04.6 LTS (ubuntu 20.04)")]
    public async Task Any_other_system_fails_in_one_line_naming_it_and_the_supported_ones_before_touching_anything(string osRelease, string named)
    {
        FreshMachine("apt");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings(osRelease)));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"cannot configure {named}: supported systems are Ubuntu 22.04, Ubuntu 24.04, Debian 12, Amazon Linux 2023", result.Error);
        Assert.Equal("", calls);
    }

    [Fact]
    public async Task A_host_without_os_release_fails_in_one_line()
    {
        FreshMachine("apt");
        var missing = Path.Combine(dir, "no-os-release");

        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings("debian-12") with { OsReleaseFile = missing }));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"cannot configure this host: it has no {missing}, so its system is unknown; supported systems are Ubuntu 22.04, Ubuntu 24.04, Debian 12, Amazon Linux 2023", result.Error);
        Assert.Equal("", calls);
    }

    [Fact]
    public async Task A_second_run_that_changes_something_fails_the_idempotence_check()
    {
        FreshMachine("apt");
        File.WriteAllText(Path.Combine(dir, "ansible-playbook.stub"), $"#!/bin/bash\n{AnsibleStub(4, 1)}\n");

        var (result, _) = await Run(HostScripts.ConfigureHost(Host, Settings("ubuntu-24.04")));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("ConfigureHost is not idempotent: the second run changed 1 tasks", result.Error);
    }

    [Fact]
    public async Task Cloud_init_that_never_finishes_fails_after_the_bound()
    {
        FreshMachine("apt");
        Stub("cloud-init", "case \"$*\" in *--wait*) sleep 60 ;; *) echo 'status: running' ;; esac");

        var started = DateTime.UtcNow;
        var (result, calls) = await Run(HostScripts.ConfigureHost(Host, Settings("ubuntu-22.04") with { CloudInitWait = TimeSpan.FromSeconds(1) }));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("cloud-init did not finish within 1 s (status: running); try again later", result.Error);
        Assert.DoesNotContain("apt-get", calls);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30));
    }

    /// <summary>The package lock held by another process (as unattended-upgrades holds dpkg's at first boot): the
    /// script waits, then fails naming the holder; a lock released in time lets it go on. The holder is in the
    /// background, so the script waits until a non-blocking flock fails (the lock is held) before it looks; a fixed
    /// 0.3 s sleep could end before a loaded machine ran the holder, and then nothing was waited for.</summary>
    [Theory]
    [InlineData(8, false)]
    [InlineData(1, true)]
    public async Task The_package_lock_is_waited_for_and_its_holder_named(int holdSeconds, bool freed)
    {
        var lockFile = Path.Combine(dir, "lock-frontend");
        File.WriteAllText(lockFile, "");
        var values = new ScriptValues().Add("os_release_file", Fixture("debian-12")).Add("package_lock_wait", 3);
        var script = "set -euo pipefail\nexec 2>&1\n" + values.Render(ShellFiles.Render(["configure-host.sh"]) + "package_lock_wait os_release_file") +
                     ShellFiles.Render(["configure-host.sh"]) + $"""
                     detect_system
                     package_lock_files=({ShellQuote.Quote(lockFile)})
                     flock -o {ShellQuote.Quote(lockFile)} sleep {holdSeconds} >/dev/null 2>&1 &
                     holder=$!
                     trap 'kill "$holder" 2>/dev/null || true' EXIT
                     tries=0
                     while flock -n {ShellQuote.Quote(lockFile)} true; do
                       tries=$((tries + 1))
                       [ "$tries" -lt 600 ] || fail "the test's holder never took the lock"
                       sleep 0.05
                     done
                     wait_package_lock
                     say "went on"
                     """;

        var (result, _) = await Run(script);

        Assert.Matches($@"^webapp-deploy: waiting for the package lock, held by flock \(pid \d+: flock -o {Regex.Escape(lockFile)} sleep {holdSeconds}\) on {Regex.Escape(lockFile)} \(at most 3 s\)$",
            result.Lines.Single(l => l.Contains("waiting for the package lock")));
        if (freed)
            Assert.Contains("webapp-deploy: went on", result.Lines);
        else
            Assert.Matches($@"^the package lock is still held by flock \(pid \d+: .*\) on .* after 3 s; try again when it is done$", result.Error);
    }

    /// <summary>A container's or chroot's apt-get locks its overlay copy of the lock file: /proc/locks shows the same
    /// inode number on the overlay's device. That is not this system's lock, and the script goes on at once (it used to
    /// match the inode alone, and a Hosts test once waited out its bound on the EndToEnd fleet's isolated apt-get).</summary>
    [Fact]
    public async Task A_lock_on_an_overlay_copy_of_the_lock_file_is_not_this_system_s_lock()
    {
        var lower = Directory.CreateDirectory(Path.Combine(dir, "lower")).FullName;
        var lockFile = Path.Combine(lower, "lock-frontend");
        File.WriteAllText(lockFile, "");
        var overlay = Path.Combine(dir, "overlay");
        var values = new ScriptValues().Add("os_release_file", Fixture("debian-12")).Add("package_lock_wait", 3);
        // The /proc/locks entry of a lock on that inode number, on whatever device.
        const string onInode = """{ n = split($6, id, ":") } n == 3 && id[3] == inode { print $6 }""";
        var mountAndHold = $"/bin/mount -t overlay overlay -o lowerdir={lower},upperdir={overlay}/upper,workdir={overlay}/work {overlay}/root && exec flock -o {overlay}/root/lock-frontend sleep 30";
        var script = "set -euo pipefail\nexec 2>&1\n" + values.Render(ShellFiles.Render(["configure-host.sh"]) + "package_lock_wait os_release_file") +
                     ShellFiles.Render(["configure-host.sh"]) + $"""
                     detect_system
                     package_lock_files=({ShellQuote.Quote(lockFile)})
                     mkdir -p {ShellQuote.Quote(overlay)}/upper {ShellQuote.Quote(overlay)}/work {ShellQuote.Quote(overlay)}/root
                     /usr/bin/unshare --mount --propagation private /bin/sh -c {ShellQuote.Quote(mountAndHold)} >/dev/null 2>&1 &
                     holder=$!
                     trap 'kill "$holder" 2>/dev/null || true' EXIT
                     inode=$(stat -c %i {ShellQuote.Quote(lockFile)})
                     tries=0
                     until [ -n "$(awk -v inode="$inode" {ShellQuote.Quote(onInode)} /proc/locks)" ]; do
                       tries=$((tries + 1))
                       [ "$tries" -lt 600 ] || fail "the test's holder never locked the overlay copy"
                       sleep 0.05
                     done
                     say "the overlay copy is locked: $(awk -v inode="$inode" {ShellQuote.Quote(onInode)} /proc/locks) (this system's file: $inode)"
                     wait_package_lock
                     say "went on"
                     """;

        var (result, _) = await Run(script);

        Assert.True(result.ExitCode == 0, string.Join('\n', result.Lines));
        // The premise: the overlay's lock carries this system's file's inode number.
        var locked = Regex.Match(result.Lines.Single(l => l.Contains("the overlay copy is locked: ")), @"locked: [0-9a-f]+:[0-9a-f]+:(\d+) \(this system's file: (\d+)\)$");
        Assert.True(locked.Success && locked.Groups[1].Value == locked.Groups[2].Value, string.Join('\n', result.Lines));
        Assert.DoesNotContain(result.Lines, l => l.Contains("waiting for the package lock"));
        Assert.Contains("webapp-deploy: went on", result.Lines);
    }
}

/// <summary>ConfigureHost's waits are bounds: with them, the playbook must still fit the site's script time limit.</summary>
public sealed class ConfigureHostTimeLimitTests
{
    /// <summary>A site whose transport stops scripts after <paramref name="limit"/> and that must be sent nothing.</summary>
    internal sealed class LimitedSite(TimeSpan limit) : Sites.Site
    {
        public override string Name => "a limited site";
        public override Task<string> DescribeHostsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Name);
        public override HostSettings ScriptSettings(HostSettings settings) => settings;
        public override Sites.ReleaseLedger Ledger(HostSettings settings) => throw new NotSupportedException();
        public override Task<IReadOnlyList<Sites.HostRun>> RollAsync(string script, string what, string nothingDone, Action<string>? live, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("nothing may be sent");
        public override Task<IReadOnlyList<Sites.HostRun>> QueryAsync(string script, string what, CancellationToken cancellationToken) => throw new NotSupportedException();
        public override Task<IReadOnlyList<Sites.HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
        public override (TimeSpan Limit, string Parameter)? ScriptTimeLimit => (limit, "--execution-timeout");
    }

    /// <summary>Takes the script it is given and stops there.</summary>
    sealed class CapturingSite(bool sharesTheBuildsDocker) : Sites.Site
    {
        public string? Script { get; private set; }
        public override string Name => "a capturing site";
        public override bool SharesTheBuildsDocker => sharesTheBuildsDocker;
        public override Task<string> DescribeHostsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Name);
        public override HostSettings ScriptSettings(HostSettings settings) => settings;
        public override Sites.ReleaseLedger Ledger(HostSettings settings) => throw new NotSupportedException();
        public override Task<IReadOnlyList<Sites.HostRun>> RollAsync(string script, string what, string nothingDone, Action<string>? live, CancellationToken cancellationToken)
        {
            Script = script;
            throw new OperationCanceledException("captured");
        }
        public override Task<IReadOnlyList<Sites.HostRun>> QueryAsync(string script, string what, CancellationToken cancellationToken) => throw new NotSupportedException();
        public override Task<IReadOnlyList<Sites.HostRun>> RunEachAsync(IReadOnlyList<string> hosts, string script, string what, Action<string>? live, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    /// <summary>Only hosts that read the registry login from Parameter Store (they do not share the build's docker)
    /// and only with a password registry get the AWS CLI step.</summary>
    [Theory]
    [InlineData(true, false, "false")]
    [InlineData(false, false, "false")]
    [InlineData(true, true, "false")]
    [InlineData(false, true, "true")]
    public async Task The_AWS_CLI_is_asked_for_on_hosts_that_read_a_password_registrys_login(bool sharesTheBuildsDocker, bool passwordRegistry, string needed)
    {
        var site = new CapturingSite(sharesTheBuildsDocker);

        await Assert.ThrowsAsync<OperationCanceledException>(() => new HostConfiguration(new Deployer(site, new HostSettings()))
            .ConfigureAsync(new HostConfigurationSettings { PlaybookArchive = "", PasswordRegistry = passwordRegistry }, "ConfigureHost"));

        Assert.Matches($"\naws_cli_needed='?{needed}'?\n", site.Script);
    }

    [Fact]
    public async Task Waits_and_two_runs_that_cannot_fit_the_execution_timeout_fail_before_anything_is_sent()
    {
        var configuration = new HostConfiguration(new Deployer(new LimitedSite(TimeSpan.FromSeconds(900)), new HostSettings()));

        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            configuration.ConfigureAsync(new HostConfigurationSettings { PlaybookArchive = "", CheckIdempotence = true }, "ConfigureHost on a limited site"));

        Assert.Equal("ConfigureHost on a limited site: the script may wait 300 s for cloud-init and 180 s for the package lock and needs up to 300 s per playbook run: " +
                     "1080 s in all, more than --execution-timeout (900 s); raise --execution-timeout to at least 1080s (nothing was sent)", error.Message);
    }
}
