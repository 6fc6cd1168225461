using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>Runs host shell files under real bash as a plan would: shell options, the values header, the files (with
/// their needs), then the test's own lines.</summary>
public static class HostShell
{
    public static string Script(ScriptValues values, IEnumerable<string> files, string body)
    {
        var functions = ShellFiles.Render(files);
        return "set -euo pipefail\nexec 2>&1\n" + values.Render(functions + body) + functions + body;
    }

    public static Task<HostResult> Run(ScriptValues values, IEnumerable<string> files, string body) =>
        new LocalHost().RunAsync(Script(values, files, body));
}
