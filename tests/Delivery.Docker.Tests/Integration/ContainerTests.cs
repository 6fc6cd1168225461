namespace Delivery.Docker.Tests.Integration;

[Collection(DockerCollection.Name)]
public sealed class ContainerTests(DockerFixture fixture)
{
    [Fact]
    public async Task A_hardened_app_container_starts_serves_on_loopback_runs_as_10001_and_stops()
    {
        var image = await fixture.AppImageAsync();
        var name = fixture.Name("lifecycle");
        var id = await fixture.Docker.CreateContainerAsync(new ContainerSpec
        {
            Image = image,
            Name = name,
            Environment = new Dictionary<string, string> { ["GREETING"] = "hi" },
            Ports = [new PortBinding(8080)],
            Labels = fixture.Labels,
            ReadOnlyRootFilesystem = true,
            Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,noexec,nosuid,size=16m" },
            CapDrop = ["ALL"],
            SecurityOptions = ["no-new-privileges"],
        });
        try
        {
            await fixture.Docker.StartContainerAsync(id);
            var details = await fixture.Docker.InspectContainerAsync(name);
            Assert.NotNull(details);
            Assert.Equal(id, details.Id);
            Assert.True(details.State.Running);
            Assert.Null(details.HealthStatus);
            Assert.True(details.HostConfig!.ReadonlyRootfs);
            Assert.Equal(["ALL"], details.HostConfig.CapDrop);
            Assert.Contains("no-new-privileges", details.HostConfig.SecurityOpt!);
            Assert.Contains("GREETING=hi", details.Config.Env!);
            Assert.Equal("127.0.0.1", details.NetworkSettings!.Ports!["8080/tcp"]![0].HostIp);
            var port = details.HostPortFor(8080);
            Assert.NotNull(port);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string? body = null;
            for (var attempt = 0; attempt < 240 && body is null; attempt++)
            {
                try { body = await http.GetStringAsync($"http://127.0.0.1:{port}/"); }
                catch (HttpRequestException) { await Task.Delay(250); }
            }
            Assert.Equal("fixture home", body);

            var processes = await fixture.Docker.TopAsync(id);
            Assert.Equal(["10001"], processes.Column("UID").Distinct());
            Assert.Contains("dotnet", processes.Column("COMMAND"));

            var logs = await fixture.Docker.GetContainerLogsAsync(id, tail: 50);
            Assert.Contains(logs, l => l.Stream == LogStream.StdErr && l.Text == "fixture: starting (stderr)");
            Assert.Contains(logs, l => l.Stream == LogStream.StdOut && l.Text.Contains("Now listening on: http://[::]:8080", StringComparison.Ordinal));

            await fixture.Docker.StopContainerAsync(id, TimeSpan.FromSeconds(10));
            var stopped = await fixture.Docker.InspectContainerAsync(id);
            Assert.False(stopped!.State.Running);
            Assert.Equal("exited", stopped.State.Status);
            Assert.Equal(0, stopped.State.ExitCode);
            await fixture.Docker.StopContainerAsync(id, TimeSpan.FromSeconds(1)); // already stopped: fine
        }
        finally
        {
            Assert.True(await fixture.Docker.RemoveContainerAsync(id));
        }
        Assert.Null(await fixture.Docker.InspectContainerAsync(id));
    }

    [Fact]
    public async Task Logs_are_demultiplexed_and_health_checks_are_reported()
    {
        var shell = await fixture.ShellImageAsync();
        var id = await fixture.Docker.CreateContainerAsync(new ContainerSpec
        {
            Image = shell,
            Name = fixture.Name("logs"),
            Labels = fixture.Labels,
            Command = ["sh", "-c", "for i in 1 2 3 4 5; do echo out-$i; echo err-$i >&2; done; sleep 60"],
            HealthCheck = new ContainerHealthCheck(["CMD", "true"], TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), 3, TimeSpan.Zero),
        });
        try
        {
            await fixture.Docker.StartContainerAsync(id);
            ContainerDetails? details = null;
            for (var i = 0; i < 200; i++)
            {
                details = await fixture.Docker.InspectContainerAsync(id);
                if (details!.HealthStatus == "healthy") break;
                await Task.Delay(100);
            }
            Assert.Equal("healthy", details!.HealthStatus);

            var all = await fixture.Docker.GetContainerLogsAsync(id, tail: 100);
            Assert.Equal(["out-1", "out-2", "out-3", "out-4", "out-5"], all.Where(l => l.Stream == LogStream.StdOut).Select(l => l.Text));
            Assert.Equal(["err-1", "err-2", "err-3", "err-4", "err-5"], all.Where(l => l.Stream == LogStream.StdErr).Select(l => l.Text));

            var listed = await fixture.Docker.ListContainersAsync([$"{DockerFixture.RunLabel}={fixture.Prefix}"]);
            Assert.Contains(listed, c => c.Id == id && c.State == "running");
        }
        finally
        {
            await fixture.Docker.RemoveContainerAsync(id, force: true);
        }
    }

    [Fact]
    public async Task Logs_can_be_tailed()
    {
        var shell = await fixture.ShellImageAsync();
        var id = await fixture.Docker.CreateContainerAsync(new ContainerSpec
        {
            Image = shell,
            Name = fixture.Name("tail"),
            Labels = fixture.Labels,
            Command = ["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done"],
        });
        try
        {
            await fixture.Docker.StartContainerAsync(id);
            Assert.Equal(0, await fixture.Docker.WaitContainerAsync(id));

            var tail = await fixture.Docker.GetContainerLogsAsync(id, tail: 2);

            Assert.Equal(["line-4", "line-5"], tail.Select(l => l.Text));
        }
        finally
        {
            await fixture.Docker.RemoveContainerAsync(id);
        }
    }

    [Fact]
    public async Task Wait_returns_the_exit_code()
    {
        var shell = await fixture.ShellImageAsync();
        var (exit, output) = await fixture.RunToCompletionAsync(shell, "sh", "-c", "echo bye; exit 42");

        Assert.Equal(42, exit);
        Assert.Equal(["bye"], output.Select(l => l.Text));
    }
}
