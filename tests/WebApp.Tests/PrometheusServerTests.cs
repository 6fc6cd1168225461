using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WebApp.Tests.Infrastructure;

namespace WebApp.Tests;

/// <summary>A real Prometheus server (Debian package 'prometheus') scrapes the app on real Kestrel.</summary>
public sealed class PrometheusServerTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("webapp-prometheus-").FullName;

    [Fact]
    public async Task Prometheus_scrapes_the_app_and_sees_it_up_and_its_request_counter()
    {
        var prometheus = ExternalTool.Require("prometheus", "Debian package 'prometheus'");
        await using var app = await KestrelApp.StartAsync();
        using var appClient = app.CreateClient();
        for (var i = 0; i < 5; i++)
            (await appClient.GetAsync("/cloud")).EnsureSuccessStatusCode();

        var port = TestSupport.TestPorts.Next();
        var config = Path.Combine(_dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: webapp
                static_configs:
                  - targets: ["{app.BaseAddress.Authority}"]
            """);
        using var server = StartPrometheus(prometheus, config, port, out var log);
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

            var up = await WaitForValue(api, "up{job=\"webapp\"}", v => v == 1, server, log);
            var cloud = await WaitForValue(api, "sum(http_requests_received_total{job=\"webapp\",method=\"GET\",route=\"/cloud\",code=\"200\"})",
                v => v >= 5, server, log);
            var scrapes = await WaitForValue(api, "sum(http_requests_received_total{job=\"webapp\",route=\"/metrics\"})", v => v >= 1, server, log);

            Assert.Equal(1, up);
            Assert.Equal(5, cloud);
            Assert.True(scrapes >= 1);
        }
        finally
        {
            if (!server.HasExited)
                server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private Process StartPrometheus(string prometheus, string config, int port, out StringBuilder log)
    {
        var startInfo = new ProcessStartInfo(prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _dir,
        };
        foreach (var arg in new[]
                 {
                     $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(_dir, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 })
            startInfo.ArgumentList.Add(arg);
        var output = new StringBuilder();
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log = output;
        return process;
    }

    /// <summary>Polls the query API until the instant query has one sample that satisfies <paramref name="done"/>.</summary>
    private static async Task<double> WaitForValue(HttpClient api, string query, Func<double, bool> done, Process server, StringBuilder log)
    {
        using var guard = new CancellationTokenSource(Patience);
        var last = "(no answer)";
        while (!guard.IsCancellationRequested)
        {
            if (server.HasExited)
                Assert.Fail($"prometheus exited with {server.ExitCode}:\n{log}");
            try
            {
                var json = await api.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query), guard.Token);
                last = json;
                using var doc = JsonDocument.Parse(json);
                var result = doc.RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() == 1)
                {
                    var value = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                    if (done(value))
                        return value;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await Task.Delay(250);
        }
        Assert.Fail($"'{query}' did not reach the expected value within {Patience.TotalSeconds} s; last answer: {last}\n{log}");
        return double.NaN;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
