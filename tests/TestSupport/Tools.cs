using Delivery.Core;

namespace TestSupport;

/// <summary>Integration tests need real tools; a missing one fails the test with a clear message (CI installs them).</summary>
public static class Tools
{
    public static string Require(string program, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path)) return path;
        }
        Assert.Fail($"'{program}' is required by this test but is not installed: apt-get install {package}");
        return "";
    }

    public static async Task<ProcessResult> Run(string program, params string[] args) =>
        await ProcessRunner.RunAsync(program, args);

    public static async Task<string> RunChecked(string program, params string[] args) =>
        (await ProcessRunner.RunCheckedAsync(program, args)).StandardOutput;

    public static int FreePort() => TestPorts.Next();

    public static string NewRunId() => Guid.NewGuid().ToString("N")[..6];

    public static async Task<(int Status, string Body)> Get(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(url);
            return ((int)response.StatusCode, (await response.Content.ReadAsStringAsync()).Trim());
        }
        catch (HttpRequestException)
        {
            return (0, "");
        }
    }
}
