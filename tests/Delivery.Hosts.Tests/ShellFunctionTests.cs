using System.Text.Json;
using Delivery.Core;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>The shared shell functions and the lock, run for real under bash against a temp dir (no Docker needed).</summary>
public sealed class ShellFunctionTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("hdt-shell-").FullName;
    string LockDir => Path.Combine(_dir, "envs", "staging", "lock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static Task<HostResult> Bash(string body) =>
        HostShell.Run(new ScriptValues().Add("deployed_by", "tester"), ["lock.sh"], body);

    static string StartTime(int pid) => File.ReadAllText($"/proc/{pid}/stat").Split(") ", 2)[1].Split(' ')[19];

    void WriteHolder(int pid, string pidstart, string host) =>
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(LockDir).FullName, "holder"),
            $"what=deploy of 0.9.0\nuser=carol\nhost={host}\npid={pid}\npidstart={pidstart}\nsince=2026-01-02T03:04:05Z\n");

    static async Task<int> DeadPid()
    {
        var result = await ProcessRunner.RunCheckedAsync("bash", ["-c", "sleep 0 & echo $!; wait"]);
        return int.Parse(result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Json_strings_escape_quotes_and_backslashes()
    {
        var result = await Bash("""emit "{\"v\":$(json_str 'say "hi" \ bye')}" """);
        var json = JsonDocument.Parse(result.Data.Single()).RootElement;
        Assert.Equal("say \"hi\" \\ bye", json.GetProperty("v").GetString());
    }

    [Fact]
    public async Task Fields_are_read_from_state_files_and_a_missing_file_reads_as_empty()
    {
        File.WriteAllText(Path.Combine(_dir, "current"), "version=1.2.3\nslot=blue\nversion=ignored\n");
        var result = await Bash($"say \"[$(field '{_dir}/current' version)] [$(field '{_dir}/current' slot)] [$(field '{_dir}/current' port)] [$(field '{_dir}/missing' version)]\"");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("webapp-deploy: [1.2.3] [blue] [] []", result.Lines.Single());
    }

    [Fact]
    public async Task A_lock_records_its_holder_and_is_released_by_its_owner_only()
    {
        var result = await Bash($"""
            acquire_lock '{LockDir}' staging 'deploy of 1.0.0' 0
            cat '{LockDir}/holder'
            release_lock '{LockDir}'
            [ ! -e '{LockDir}' ] && say released
            """);
        Assert.True(result.Succeeded, result.Tail());
        var holder = result.Lines.Where(l => l.Contains('=')).ToDictionary(l => l.Split('=', 2)[0], l => l.Split('=', 2)[1]);
        Assert.Equal("deploy of 1.0.0", holder["what"]);
        Assert.Equal("tester", holder["user"]);
        Assert.Equal(Environment.MachineName, holder["host"]);
        Assert.Matches("^[0-9]+$", holder["pid"]);
        Assert.Matches("^[0-9]+$", holder["pidstart"]);
        Assert.Matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$", holder["since"]);
        Assert.Equal("webapp-deploy: released", result.Lines.Last());

        WriteHolder(Environment.ProcessId, StartTime(Environment.ProcessId), Environment.MachineName);
        var other = await Bash($"release_lock '{LockDir}'; say done");
        Assert.True(other.Succeeded);
        Assert.True(File.Exists(Path.Combine(LockDir, "holder")), "a lock held by another process must survive release_lock");
    }

    [Fact]
    public async Task A_live_holder_makes_acquire_fail_at_once_naming_it()
    {
        WriteHolder(Environment.ProcessId, StartTime(Environment.ProcessId), Environment.MachineName);
        var result = await Bash($"acquire_lock '{LockDir}' staging 'deploy of 1.0.0' 0");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"staging is locked by deploy of 0.9.0 by carol on {Environment.MachineName} (pid {Environment.ProcessId}) since 2026-01-02T03:04:05Z; try again later, wait with --lock-wait <seconds>, or force-unlock it if that process is gone", result.Error);
        Assert.Equal([LockDir], Directory.GetDirectories(Path.GetDirectoryName(LockDir)!));
    }

    [Fact]
    public async Task A_lock_released_while_its_holder_is_read_is_taken_instead_of_failing_on_an_unknown_holder()
    {
        WriteHolder(Environment.ProcessId, StartTime(Environment.ProcessId), Environment.MachineName);
        // The holder's run ends (and releases) just as the second run reads who holds the lock.
        var result = await Bash($$"""
            lock_holder() { rm -rf "$1"; printf 'a holder that just released it'; }
            acquire_lock '{{LockDir}}' staging 'deploy of 1.0.0' 0
            say "acquired: $(field '{{LockDir}}/holder' what)"
            """);
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("webapp-deploy: acquired: deploy of 1.0.0", result.Lines.Last());
    }

    [Fact]
    public async Task A_dead_holder_is_reported_and_its_lock_taken_over()
    {
        var dead = await DeadPid();
        WriteHolder(dead, "12345", Environment.MachineName);
        var result = await Bash($"acquire_lock '{LockDir}' staging 'deploy of 1.0.0' 0; say \"holder pid $(field '{LockDir}/holder' pid) me $$\"");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal($"webapp-deploy: stale lock on staging from deploy of 0.9.0 by carol on {Environment.MachineName} (pid {dead}) since 2026-01-02T03:04:05Z (pid {dead} is gone); taking it over", result.Lines[0]);
        var pids = result.Lines[1].Split(' ');
        Assert.Equal(pids[3], pids[5]);
    }

    [Fact]
    public async Task A_reused_pid_is_told_apart_by_its_start_time()
    {
        WriteHolder(Environment.ProcessId, "1", Environment.MachineName);
        var result = await Bash($"acquire_lock '{LockDir}' staging 'deploy of 1.0.0' 0");
        Assert.True(result.Succeeded, result.Tail());
        Assert.StartsWith("webapp-deploy: stale lock on staging from deploy of 0.9.0", result.Lines[0]);
    }

    [Fact]
    public async Task A_holder_on_another_host_is_never_judged_stale_from_here()
    {
        WriteHolder(await DeadPid(), "1", "some-other-host");
        var result = await Bash($"acquire_lock '{LockDir}' staging 'deploy of 1.0.0' 0");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("staging is locked by deploy of 0.9.0 by carol on some-other-host", result.Error);
    }

    [Fact]
    public async Task A_failed_pull_is_a_typed_failure_line_with_its_reason_then_the_error()
    {
        var docker = Path.Combine(_dir, "docker");
        File.WriteAllText(docker, "#!/bin/sh\n[ \"$1\" = pull ] && echo 'Error response from daemon: manifest for r/w@sha256:e not found: manifest unknown' >&2\nexit 1\n");
        File.SetUnixFileMode(docker, (UnixFileMode)0b111_000_000);
        var result = await HostShell.Run(new ScriptValues().Add("docker", docker).Add("release_image", "r/w@sha256:e"), ["container.sh"], "pull_image\n");

        Assert.Equal(1, result.ExitCode);
        var failure = JsonDocument.Parse(result.Data.Single()).RootElement;
        Assert.Equal(HostDataKind.Failure, HostDataKinds.Parse(failure.GetProperty("kind").GetString()));
        Assert.Equal(RegistryFailure.Missing, RegistryFailures.Parse(failure.GetProperty("reason").GetString()));
        Assert.Equal("r/w@sha256:e", failure.GetProperty("image").GetString());
        Assert.Equal("Error response from daemon: manifest for r/w@sha256:e not found: manifest unknown", failure.GetProperty("detail").GetString());
        Assert.Equal("cannot pull r/w@sha256:e: Error response from daemon: manifest for r/w@sha256:e not found: manifest unknown (nothing was changed)", result.Error);
    }

    /// <summary>docker's own last lines (as seen from login and pull against docker-registry), and what each means.</summary>
    [Theory]
    [InlineData("Error response from daemon: login attempt to https://127.0.0.1:45537/v2/ failed with status: 401 Unauthorized", RegistryFailure.Credentials)]
    [InlineData("Error response from daemon: Head \"https://r.example/v2/w/manifests/sha256:e\": no basic auth credentials", RegistryFailure.Credentials)]
    [InlineData("Error response from daemon: pull access denied for r/w, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", RegistryFailure.Credentials)]
    [InlineData("Error response from daemon: Get \"https://r.example:5443/v2/\": x509: certificate signed by unknown authority", RegistryFailure.Tls)]
    [InlineData("Error response from daemon: Get \"https://r.example:5443/v2/\": dial tcp 10.0.0.9:5443: connect: connection refused", RegistryFailure.Unreachable)]
    [InlineData("Error response from daemon: Get \"https://nowhere.invalid/v2/\": dial tcp: lookup nowhere.invalid: no such host", RegistryFailure.Unreachable)]
    [InlineData("Error response from daemon: manifest for r/w@sha256:e not found: manifest unknown: manifest unknown", RegistryFailure.Missing)]
    [InlineData("Error response from daemon: something new", RegistryFailure.Other)]
    public async Task Docker_s_error_line_becomes_a_typed_registry_failure(string line, RegistryFailure expected)
    {
        var result = await HostShell.Run(new ScriptValues().Add("line", line), ["registry.sh"], "say \"$(registry_failure_reason \"$line\")\"\n");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal(expected, RegistryFailures.Parse(result.Lines.Single()["webapp-deploy: ".Length..]));
    }

    [Fact]
    public async Task A_zombie_counts_as_dead()
    {
        var result = await Bash("say \"self $(pid_alive $$ && echo alive || echo dead) none $(pid_alive 999999999 && echo alive || echo dead)\"");
        Assert.Equal("webapp-deploy: self alive none dead", result.Lines.Single());
    }
}
