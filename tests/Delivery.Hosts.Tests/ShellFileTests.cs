using System.Text.RegularExpressions;
using Delivery.Aws;
using Delivery.Core;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>The host shell files as code: each calls only what it or the files it needs define, every function is
/// called, and the data lines they write are exactly <see cref="HostDataKind"/>'s kinds.</summary>
public sealed class ShellFileTests
{
    /// <summary>The programs the host functions may run besides bash's own builtins: coreutils, sed, awk, grep, find.</summary>
    static readonly string[] HostPrograms =
        ["awk", "sed", "grep", "date", "mkdir", "rm", "mv", "cp", "cat", "tail", "head", "cut", "tr", "wc", "sleep", "uname", "dirname", "find", "rmdir", "mktemp", "bash", "sort"];

    /// <summary>ConfigureHost's file also runs the package tools, cloud-init, ansible and the programs that unpack the playbook.</summary>
    static readonly string[] ConfigurePrograms =
        ["apt-get", "dnf", "dpkg", "cloud-init", "ansible-playbook", "sudo", "id", "timeout", "stat", "env", "base64", "tar"];

    static async Task<HashSet<string>> BashBuiltins()
    {
        var result = await ProcessRunner.RunCheckedAsync(Tools.Require("bash", "bash"), ["-c", "compgen -b; compgen -k"]);
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    static IEnumerable<string> Undefined(ShellCommands scan, HashSet<string> builtins, bool configures = false) =>
        scan.Commands.Distinct().Where(c => !scan.Functions.Contains(c) && !builtins.Contains(c) && !HostPrograms.Contains(c) && !(configures && ConfigurePrograms.Contains(c))).Order();

    public static TheoryData<string> Files => new(ShellFiles.Names);

    [Theory]
    [MemberData(nameof(Files))]
    public async Task A_file_calls_only_functions_that_it_or_the_files_it_needs_define(string file)
    {
        var scan = ShellCommands.Of(ShellFiles.Render([file]));
        Assert.Empty(Undefined(scan, await BashBuiltins(), file == "configure-host.sh").Select(c => $"{file} calls {c}, which neither it nor its needs ({string.Join(", ", ShellFiles.Needs(file))}) define"));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_file_it_needs_defines_something_it_calls(string file)
    {
        var calls = ShellCommands.Of(ShellFiles.Text(file)).Commands.ToHashSet();
        foreach (var need in ShellFiles.Needs(file))
            Assert.True(ShellCommands.Of(ShellFiles.Text(need)).Functions.Any(calls.Contains), $"{file} needs {need} but calls none of its functions");
    }

    [Theory]
    [MemberData(nameof(PlanTests.Plans), MemberType = typeof(PlanTests))]
    public async Task A_plan_calls_only_functions_it_defines(string name, string script)
    {
        var scan = ShellCommands.Of(script);
        Assert.Empty(Undefined(scan, await BashBuiltins(), name.StartsWith("configure host", StringComparison.Ordinal)).Select(c => $"the {name} plan calls {c}, which none of its files define"));
        Assert.Equal(scan.Functions.Distinct().Count(), scan.Functions.Count);
    }

    static HashSet<string> CalledByPlans() => PlanTests.Plans.SelectMany(p => ShellCommands.Of((string)p[1]).Commands)
        .Concat(ShellCommands.Of(HostCommand.Wrap("true")).Commands).ToHashSet();

    [Fact]
    public void Every_function_a_file_defines_is_called_by_a_file_or_a_plan()
    {
        var called = CalledByPlans();
        var unused = ShellFiles.Names
            .SelectMany(f => ShellCommands.Of(ShellFiles.Text(f)).Functions.Where(fn => !called.Contains(fn)).Select(fn => $"{f}: {fn}"));
        Assert.Empty(unused);
    }

    [Fact]
    public void The_scanner_finds_calls_in_every_position_a_host_script_uses()
    {
        var scan = ShellCommands.Of("""
            f() { a; b && c || d | e; }
            g() {
              if h; then i; elif j; then k; else l; fi
              while m; do n "$(o "$(p)")" x=$(q); done < <(r)
              case "$1" in *'x|y'*) s ;; t|u) v ;; esac
              for z in $(w); do timed phase y1 arg; done
              ( y2 ) || [ -n "${x:-$(y3)}" ] || echo $((1 + 2))
              trap 'y4 "$x"' EXIT; trap y5 TERM
              cat <<EOF
            notacommand here
            EOF
              local v=1 # comment y6
              "$docker" run
            }
            """);
        Assert.Equal(["f", "g"], scan.Functions);
        Assert.Equal(["a", "b", "c", "d", "e", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "v", "w", "timed", "y1", "y2", "[", "y3", "echo", "trap", "y4", "trap", "y5", "cat", "local"],
            scan.Commands);
    }

    [Fact]
    public void The_data_lines_the_files_write_are_exactly_the_kinds_of_HostDataKind()
    {
        var emitted = ShellFiles.Names.SelectMany(f => Regex.Matches(ShellFiles.Text(f), @"\\?""kind\\?"":\\?""([a-z_]+)").Select(m => m.Groups[1].Value))
            .ToHashSet();
        Assert.Equal(Enum.GetValues<HostDataKind>().Select(k => k.WireName()).Order(), emitted.Order());
    }
}
