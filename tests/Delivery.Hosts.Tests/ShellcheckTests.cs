using Delivery.Aws;
using Delivery.Core;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>shellcheck, at its default severity (style and up), finds nothing in any rendered plan or in the SSM
/// wrapper around one.</summary>
public sealed class ShellcheckTests
{
    public static TheoryData<string, string, string> Scripts()
    {
        var scripts = new TheoryData<string, string, string>();
        foreach (var plan in PlanTests.Plans)
            scripts.Add((string)plan[0], (string)plan[1], "bash");
        scripts.Add("SSM wrapper around deploy", HostCommand.Wrap(PlanTests.Plans.First(p => (string)p[0] == "deploy with a bake")[1].ToString()!), "sh");
        return scripts;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task Shellcheck_finds_nothing(string name, string script, string shell)
    {
        var shellcheck = Tools.Require("shellcheck", "shellcheck");
        var result = await ProcessRunner.RunAsync(shellcheck, ["--format=gcc", $"--shell={shell}", "-"], new ProcessOptions { StandardInput = script });
        var lines = script.Split('\n');
        var findings = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split(':', 4) is [_, var line, _, var message] && int.TryParse(line, out var n)
                ? $"{name} line {n}: {message.Trim()}\n    {lines[n - 1].Trim()}"
                : $"{name}: {f}")
            .ToList();
        Assert.True(result.Succeeded && findings.Count == 0,
            $"shellcheck (exit {result.ExitCode}) on {name}:\n{string.Join("\n", findings)}{result.StandardError}");
    }
}
