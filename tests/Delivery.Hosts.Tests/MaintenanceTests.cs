using System.Diagnostics;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>
/// Maintenance mode through a real HAProxy: two environments of one proxy, each served by a busybox httpd standing in
/// for its serving container (its own page, /healthz, /readyz and the app's stylesheet), with a temp state root.
/// </summary>
public sealed class MaintenanceTests : IAsyncLifetime
{
    readonly string _root = Directory.CreateTempSubdirectory("hdt-mnt-").FullName;
    readonly List<Process> _servers = [];
    HostSettings _host = null!;
    DeployEnvironment _staging = null!;
    DeployEnvironment _production = null!;
    readonly DeployOptions _options = new() { LockWait = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync()
    {
        Tools.Require("haproxy", "haproxy");
        Tools.Require("socat", "socat");
        _host = new HostSettings { StateRoot = Path.Combine(_root, "state"), AppName = "mnt" + Tools.NewRunId() };
        _staging = DeployEnvironment.Staging with { PublicPort = Tools.FreePort() };
        _production = DeployEnvironment.Production with { PublicPort = Tools.FreePort() };
        foreach (var env in new[] { _staging, _production })
        {
            var port = await Serve(env.Name);
            var envDir = Path.Combine(_host.StateRoot, "envs", env.Name);
            Directory.CreateDirectory(envDir);
            File.WriteAllText(Path.Combine(envDir, "current"), $"version=1.0.0-{env.Name}\nslot=blue\nport={port}\ncontainer=stand-in\n");
            var started = await Run(env, "point_proxy_at_current\nload_proxy\n");
            Assert.True(started.Succeeded, started.Tail());
        }
    }

    public async Task DisposeAsync()
    {
        await Run(_staging, "stop_proxy\n");
        foreach (var server in _servers) { server.Kill(); await server.WaitForExitAsync(); }
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>A busybox httpd on a free loopback port: "/" names the environment, plus /healthz, /readyz and /css/site.css.</summary>
    async Task<int> Serve(string name)
    {
        var www = Directory.CreateDirectory(Path.Combine(_root, "www-" + name)).FullName;
        File.WriteAllText(Path.Combine(www, "index.html"), $"app {name}\n");
        File.WriteAllText(Path.Combine(www, "healthz"), "Healthy\n");
        File.WriteAllText(Path.Combine(www, "readyz"), "Healthy\n");
        Directory.CreateDirectory(Path.Combine(www, "css"));
        File.WriteAllText(Path.Combine(www, "css", "site.css"), "body { color: #1f2937; }\n");
        var port = Tools.FreePort();
        var busybox = Tools.Require("busybox", "busybox-static");
        _servers.Add(Process.Start(new ProcessStartInfo(busybox, ["httpd", "-f", "-p", $"127.0.0.1:{port}", "-h", www]) { RedirectStandardOutput = true, RedirectStandardError = true })!);
        for (var i = 0; i < 50 && (await Tools.Get($"http://127.0.0.1:{port}/")).Status != 200; i++) await Task.Delay(100);
        return port;
    }

    /// <summary>Runs proxy and maintenance functions for one environment of the test host.</summary>
    Task<HostResult> Run(DeployEnvironment env, string body)
    {
        var functions = ShellFiles.Render(["maintenance-mode.sh", "lock.sh"]);
        var steps = "trap on_exit EXIT\nuse_host\nuse_environment \"$env_name\" \"$public_port\"\n" + body;
        return new LocalHost().RunAsync("set -euo pipefail\nexec 2>&1\n" + PlanValues.Of(_host, "tester", env).Render(functions + steps) + functions + steps);
    }

    static async Task<(int Status, string Body, string? RetryAfter)> Get(int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}{path}");
        var retry = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), retry);
    }

    [Fact]
    public async Task On_answers_every_app_route_with_the_page_and_Retry_After_while_health_and_the_other_environment_stay_reachable()
    {
        var on = await new LocalHost().RunAsync(HostScripts.MaintenanceOn(_host, _staging,
            new() { Message = "Database upgrade: back at 18:00 <UTC> & later", RetryAfter = TimeSpan.FromMinutes(2) }, _options));
        Assert.True(on.Succeeded, on.Tail(10));

        foreach (var path in new[] { "/", "/cloud", "/metrics", "/version" })
        {
            var (status, body, retry) = await Get(_staging.PublicPort, path);
            Assert.Equal(503, status);
            Assert.Equal("120", retry);
            Assert.Contains("<p class=\"lead mb-0\" data-testid=\"maintenance-message\">Database upgrade: back at 18:00 &lt;UTC&gt; &amp; later</p>", body);
            Assert.Contains("<link rel=\"stylesheet\" href=\"/css/site.css\" />", body);
        }
        Assert.Equal((200, "Healthy"), (await Get(_staging.PublicPort, "/healthz")) is var h ? (h.Status, h.Body.Trim()) : default);
        Assert.Equal(200, (await Get(_staging.PublicPort, "/readyz")).Status);
        Assert.Equal(200, (await Get(_staging.PublicPort, "/css/site.css")).Status);
        Assert.Equal((200, "app production"), (await Get(_production.PublicPort, "/")) is var p ? (p.Status, p.Body.Trim()) : default);

        var report = await Run(_staging, "maintenance_report\n");
        Assert.Matches("^\\{\"kind\":\"maintenance\",\"on\":true,\"since\":\"[0-9T:-]+Z\",\"by\":\"[^\"]+\",\"retry_after\":120,\"message\":\"Database upgrade: back at 18:00 <UTC> & later\"\\}$", report.Data.Single());
        Assert.Equal("{\"kind\":\"maintenance\",\"on\":false}", (await Run(_production, "maintenance_report\n")).Data.Single());

        // The site path reads the same lines through the one reader, per host.
        var mode = new MaintenanceMode(new Deployer(new LocalHost(), _host));
        var staging = (await mode.StatusAsync(_staging)).Single();
        Assert.Equal(("local", true, 120, "Database upgrade: back at 18:00 <UTC> & later"),
            (staging.Host, staging.Status.On, staging.Status.RetryAfterSeconds, staging.Status.Message));
        Assert.False((await mode.StatusAsync(_production)).Single().Status.On);
    }

    [Fact]
    public async Task A_new_message_while_on_needs_no_reload_and_maintenance_survives_a_proxy_restart()
    {
        Assert.True((await new LocalHost().RunAsync(HostScripts.MaintenanceOn(_host, _staging, new(), _options))).Succeeded);
        var pid = File.ReadAllText(Path.Combine(_host.StateRoot, "proxy", "haproxy.pid")).Trim();
        var again = await new LocalHost().RunAsync(HostScripts.MaintenanceOn(_host, _staging, new() { Message = "Still working; sorry!" }, _options));
        Assert.True(again.Succeeded, again.Tail());
        Assert.Equal(pid, File.ReadAllText(Path.Combine(_host.StateRoot, "proxy", "haproxy.pid")).Trim());
        Assert.Contains("Still working; sorry!", (await Get(_staging.PublicPort, "/")).Body);

        var restarted = await Run(_staging, "stop_proxy\nload_proxy\n");
        Assert.True(restarted.Succeeded, restarted.Tail());
        var (status, body, retry) = await Get(_staging.PublicPort, "/");
        Assert.Equal((503, "300"), (status, retry));
        Assert.Contains("Still working; sorry!", body);
        Assert.Equal(200, (await Get(_production.PublicPort, "/")).Status);
    }

    [Fact]
    public async Task A_switch_rewrites_the_environments_proxy_file_and_a_reload_later_maintenance_is_still_on()
    {
        Assert.True((await new LocalHost().RunAsync(HostScripts.MaintenanceOn(_host, _staging, new(), _options))).Succeeded);
        // What a deploy's switch does to the proxy: the environment's file is written again; then the proxy reloads.
        var switched = await Run(_staging, "point_proxy_at_current\nload_proxy\n");
        Assert.True(switched.Succeeded, switched.Tail());
        Assert.Equal(503, (await Get(_staging.PublicPort, "/")).Status);
        Assert.Equal(200, (await Get(_staging.PublicPort, "/healthz")).Status);
    }

    [Fact]
    public async Task Off_under_load_fails_no_request_and_the_other_environment_sees_no_error()
    {
        Assert.True((await new LocalHost().RunAsync(HostScripts.MaintenanceOn(_host, _staging, new(), _options))).Succeeded);
        // The load covers both sides of the switch however long --off takes on a loaded machine (a fixed 4 s window
        // could end before it): it starts once the proxy has answered more 503 pages than wrk has connections (so wrk
        // counted one) and stops once the release has answered as many through the proxy after --off.
        await using var staging = Wrk.StartUntilStopped(_staging.PublicPort, TimeSpan.FromMinutes(2), "/");
        await using var production = Wrk.StartUntilStopped(_production.PublicPort, TimeSpan.FromMinutes(2), "/");
        await ProxyStats.WaitForWrk(_host.StateRoot, ProxyStats.Name(_host.AppName, _staging), "FRONTEND", "hrsp_5xx", 1, "no maintenance page before --off");
        await ProxyStats.WaitForWrk(_host.StateRoot, ProxyStats.Name(_host.AppName, _production), "FRONTEND", "hrsp_2xx", 1, "no load on production");
        var off = await new LocalHost().RunAsync(HostScripts.MaintenanceOff(_host, _staging, _options));
        Assert.True(off.Succeeded, off.Tail());
        Assert.Contains("webapp-deploy: staging left maintenance: traffic reaches 1.0.0-staging again", off.Lines);
        await ProxyStats.WaitForWrk(_host.StateRoot, ProxyStats.Name(_host.AppName, _staging), "BACKEND", "hrsp_2xx", 1, "the release answered nothing after --off");
        var stagingLoad = await staging.StopAsync();
        var productionLoad = await production.StopAsync();

        Assert.Equal(0, stagingLoad.SocketErrors);
        Assert.InRange(stagingLoad.Non2xx3xx, 1, stagingLoad.Requests - 1);
        Assert.Equal(0, productionLoad.FailedRequests);
        Assert.Equal((200, "app staging"), (await Get(_staging.PublicPort, "/")) is var s ? (s.Status, s.Body.Trim()) : default);
        Assert.False(File.Exists(Path.Combine(_host.StateRoot, "envs", "staging", "maintenance")));
    }

    [Fact]
    public void Bad_settings_fail_in_one_line()
    {
        var error = Assert.Throws<Delivery.Core.DeliveryException>(() => HostScripts.MaintenanceOn(_host, _staging, new() { Message = "two\nlines" }, _options));
        Assert.Equal("The maintenance message must be one line of 1 to 500 characters, without control characters.", error.Message);
        error = Assert.Throws<Delivery.Core.DeliveryException>(() => HostScripts.MaintenanceOn(_host, _staging, new() { RetryAfter = TimeSpan.Zero }, _options));
        Assert.Equal("Retry-After must be between 1 s and 1 day, not 0 s.", error.Message);
    }
}
