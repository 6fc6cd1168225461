using Docker.DotNet;
using Docker.DotNet.Models;

namespace Delivery.Docker.Tests.Integration;

[Collection(DockerCollection.Name)]
public sealed class ContainerTests(DockerFixture fixture)
{
    [Fact]
    public async Task A_hardened_app_container_starts_serves_on_loopback_runs_as_10001_and_stops()
    {
        var image = await fixture.AppImageAsync();
        var name = fixture.Name("lifecycle");
        var id = (await fixture.Api.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            Name = name,
            Env = ["GREETING=hi"],
            Labels = fixture.Labels.ToDictionary(),
            ExposedPorts = new Dictionary<string, EmptyStruct> { ["8080/tcp"] = default },
            HostConfig = new HostConfig
            {
                PortBindings = new Dictionary<string, IList<PortBinding>> { ["8080/tcp"] = [new PortBinding { HostIP = "127.0.0.1", HostPort = "" }] },
                ReadonlyRootfs = true,
                Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,noexec,nosuid,size=16m" },
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
            },
        })).ID;
        try
        {
            await fixture.Api.Containers.StartContainerAsync(id, null);
            var details = await fixture.Api.Containers.InspectContainerAsync(name);
            Assert.Equal(id, details.ID);
            Assert.True(details.State!.Running);
            Assert.Null(details.State.Health);
            Assert.True(details.HostConfig!.ReadonlyRootfs);
            Assert.Equal(["ALL"], details.HostConfig.CapDrop);
            Assert.Contains("no-new-privileges", details.HostConfig.SecurityOpt);
            Assert.Contains("GREETING=hi", details.Config!.Env);
            Assert.Equal("127.0.0.1", details.NetworkSettings!.Ports["8080/tcp"][0].HostIP);
            var port = int.Parse(details.NetworkSettings.Ports["8080/tcp"][0].HostPort);
            Assert.True(port > 0);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string? body = null;
            for (var attempt = 0; attempt < 240 && body is null; attempt++)
            {
                try { body = await http.GetStringAsync($"http://127.0.0.1:{port}/"); }
                catch (HttpRequestException) { await Task.Delay(250); }
            }
            Assert.Equal("fixture home", body);

            var processes = await fixture.Api.Containers.ListProcessesAsync(id, new ContainerListProcessesParameters { PsArgs = "-o pid,uid,comm" });
            Assert.Equal(["10001"], processes.Processes.Select(p => p[processes.Titles.IndexOf("UID")]).Distinct());
            Assert.Contains("dotnet", processes.Processes.Select(p => p[processes.Titles.IndexOf("COMMAND")]));

            var logs = await fixture.Docker.GetContainerLogsAsync(id, tail: 50);
            Assert.Contains(logs, l => l.Stream == LogStream.StdErr && l.Text == "fixture: starting (stderr)");
            Assert.Contains(logs, l => l.Stream == LogStream.StdOut && l.Text.Contains("Now listening on: http://[::]:8080", StringComparison.Ordinal));

            Assert.True(await fixture.Api.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = 10 }));
            var stopped = await fixture.Api.Containers.InspectContainerAsync(id);
            Assert.False(stopped.State!.Running);
            Assert.Equal("exited", stopped.State.Status);
            Assert.Equal(0, stopped.State.ExitCode);
            Assert.False(await fixture.Api.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = 1 })); // already stopped: fine
        }
        finally
        {
            await fixture.Api.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true });
        }
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => fixture.Api.Containers.InspectContainerAsync(id));
    }

    /// <summary>The deploy's data store on the app image: a fresh named volume at /data takes the owner of the image's
    /// /data, so the app's user (10001) writes there under the same hardening while the root stays read-only. The image
    /// has no shell: the host's static busybox is bind-mounted in to play the release command.</summary>
    [Fact]
    public async Task A_fresh_volume_at_the_image_s_data_directory_is_writable_by_the_app_user_and_the_root_is_not()
    {
        const string busybox = "/bin/busybox";
        if (!File.Exists(busybox)) Assert.Fail($"{busybox} is required: apt-get install busybox-static");
        var image = await fixture.AppImageAsync();
        var volume = fixture.Name("data");
        await fixture.Api.Volumes.CreateAsync(new VolumesCreateParameters { Name = volume, Labels = fixture.Labels.ToDictionary() });
        var id = (await fixture.Api.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            Name = fixture.Name("data-writer"),
            Labels = fixture.Labels.ToDictionary(),
            Entrypoint = ["/busybox", "sh", "-c", "id -u; ls -nd /data | awk '{print $3\":\"$4}'; echo m-42 > /data/migration && cat /data/migration; touch /app/x 2>/dev/null || echo root read-only"],
            HostConfig = new HostConfig
            {
                ReadonlyRootfs = true,
                CapDrop = ["ALL"],
                SecurityOpt = ["no-new-privileges"],
                Mounts =
                [
                    new Mount { Type = "volume", Source = volume, Target = "/data" },
                    new Mount { Type = "bind", Source = busybox, Target = "/busybox", ReadOnly = true },
                ],
            },
        })).ID;
        try
        {
            await fixture.Api.Containers.StartContainerAsync(id, null);
            Assert.Equal(0, (await fixture.Api.Containers.WaitContainerAsync(id)).StatusCode);
            var logs = await fixture.Docker.GetContainerLogsAsync(id, tail: 20);
            Assert.Equal(["10001", "10001:10001", "m-42", "root read-only"], logs.Where(l => l.Stream == LogStream.StdOut).Select(l => l.Text));
        }
        finally
        {
            await fixture.Api.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true });
            await fixture.Api.Volumes.RemoveAsync(volume, force: true);
        }
    }

    [Fact]
    public async Task Logs_are_demultiplexed_and_health_checks_are_reported()
    {
        var shell = await fixture.ShellImageAsync();
        var id = (await fixture.Api.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = shell,
            Name = fixture.Name("logs"),
            Labels = fixture.Labels.ToDictionary(),
            Cmd = ["sh", "-c", "for i in 1 2 3 4 5; do echo out-$i; echo err-$i >&2; done; sleep 60"],
            Healthcheck = new HealthcheckConfig { Test = ["CMD", "true"], Interval = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromSeconds(5), Retries = 3 },
        })).ID;
        try
        {
            await fixture.Api.Containers.StartContainerAsync(id, null);
            ContainerInspectResponse? details = null;
            for (var i = 0; i < 200; i++)
            {
                details = await fixture.Api.Containers.InspectContainerAsync(id);
                if (details.State?.Health?.Status == "healthy") break;
                await Task.Delay(100);
            }
            Assert.Equal("healthy", details!.State!.Health!.Status);

            // The container still runs, so the engine may still be copying its output into the log when it is first
            // healthy (a loaded machine runs the shell's echo loop and the log copier late): read until all ten lines are
            // there, with a bound that only ends a test whose lines never all come.
            var all = await fixture.Docker.GetContainerLogsAsync(id, tail: 100);
            for (var i = 0; i < 300 && all.Count < 10; i++)
            {
                await Task.Delay(100);
                all = await fixture.Docker.GetContainerLogsAsync(id, tail: 100);
            }
            Assert.Equal(["out-1", "out-2", "out-3", "out-4", "out-5"], all.Where(l => l.Stream == LogStream.StdOut).Select(l => l.Text));
            Assert.Equal(["err-1", "err-2", "err-3", "err-4", "err-5"], all.Where(l => l.Stream == LogStream.StdErr).Select(l => l.Text));

            var listed = await fixture.ListOwnContainersAsync();
            Assert.Contains(listed, c => c.ID == id && c.State == "running");
        }
        finally
        {
            await fixture.Api.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true });
        }
    }

    [Fact]
    public async Task Logs_can_be_tailed()
    {
        var shell = await fixture.ShellImageAsync();
        var id = (await fixture.Api.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = shell,
            Name = fixture.Name("tail"),
            Labels = fixture.Labels.ToDictionary(),
            Cmd = ["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done"],
        })).ID;
        try
        {
            await fixture.Api.Containers.StartContainerAsync(id, null);
            Assert.Equal(0, (await fixture.Api.Containers.WaitContainerAsync(id)).StatusCode);

            var tail = await fixture.Docker.GetContainerLogsAsync(id, tail: 2);

            Assert.Equal(["line-4", "line-5"], tail.Select(l => l.Text));
        }
        finally
        {
            await fixture.Api.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters());
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
