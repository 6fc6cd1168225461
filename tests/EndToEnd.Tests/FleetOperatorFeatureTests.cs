using System.Text.RegularExpressions;
using EndToEnd.Tests.Infrastructure;
using TestSupport;
using Xunit.Abstractions;

namespace EndToEnd.Tests;

/// <summary>Maintenance mode and Status --verify-rollback on a fleet.</summary>
[Collection(FleetOperatorCloneCollection.Name)]
public sealed class FleetOperatorFeatureTests(CloneFixture clone, FleetFixture fleet, ITestOutputHelper output)
    : FleetOperatorTests(clone, fleet, output), IClassFixture<FleetFixture>
{
    [Fact]
    public async Task Maintenance_on_every_instance_survives_a_deploy_shows_in_Status_and_goes_off_without_a_socket_error()
    {
        const string message = "Database upgrade: back at 18:00 <UTC> & later";
        string[] both = ["--staging-targets", Fleet.Tag, "--production-targets", Fleet.Tag];
        await WriteImageAsync(Fleet.V1);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. both]));
        BuildAssert.Succeeded(await BuildAsync(["DeployProduction", "--skip", .. both]));

        var on = await BuildAsync(["Maintenance", "--environment", "staging", "--on", "--message", message, "--retry-after", "2m", .. both]);

        BuildAssert.Succeeded(on);
        var note = on.SummaryNote("Maintenance") ?? "";
        foreach (var i in Three)
        {
            var (code, body, retry) = await Get(i.StagingPort, "/");
            Assert.Equal((503, "120"), (code, retry));
            Assert.Contains("<p class=\"lead mb-0\" data-testid=\"maintenance-message\">Database upgrade: back at 18:00 &lt;UTC&gt; &amp; later</p>", body);
            Assert.Equal((503, "120"), await Get(i.StagingPort, "/version") is var v ? (v.Status, v.RetryAfter) : default);
            Assert.Equal((200, "ready"), await Get(i.StagingPort, "/readyz") is var r ? (r.Status, r.Body.Trim()) : default);
            Assert.Equal("1.0.0", await Fleet.VersionAsync(i.ProductionPort));
            Assert.Contains($"{i.Id}: staging in maintenance since ", note);
        }

        var status = await BuildAsync(["Status", .. both]);
        BuildAssert.Succeeded(status);
        foreach (var i in Three)
        {
            BuildAssert.HasLine(status, l => Regex.IsMatch(l, $"staging on {i.Id} is in maintenance since [0-9T:-]+Z \\(by [^)]+\\): {Regex.Escape(message)}$"), $"{i.Id} in maintenance");
            Assert.DoesNotContain(status.OutputLines, l => l.Contains($"production on {i.Id} is in maintenance"));
        }

        // A deploy while on keeps it on: the new release is in place, its users still see the page.
        await WriteImageAsync(Fleet.V2);
        BuildAssert.Succeeded(await BuildAsync(["DeployStaging", "--skip", .. both]));
        foreach (var i in Three)
        {
            Assert.Equal(503, (await Get(i.StagingPort, "/")).Status);
            Assert.True(File.Exists(Path.Combine(i.Root, "envs", "staging", "maintenance")), $"{i.Id} left maintenance");
        }

        // Off under load on the first instance: the page, then the release, and never a refused or reset connection.
        var first = Three[0];
        // The load runs until the test stops it, so a slow --off on a loaded machine cannot outlast it (a fixed window
        // did once: every request was a 503); it stops once the instance has answered 200 again, so it saw both sides.
        await using var load = Wrk.StartUntilStopped(first.StagingPort, TimeSpan.FromMinutes(3));
        await Task.Delay(1500);
        var off = await BuildAsync(["Maintenance", "--environment", "staging", "--off", .. both]);
        Assert.Equal(200, (await Get(first.StagingPort, "/")).Status);
        await Task.Delay(500);
        var result = await load.StopAsync();
        Output.WriteLine($"wrk on {first.Id} staging during --off: {result}");

        BuildAssert.Succeeded(off);
        Assert.True(result.Requests > 100, result.ToString());
        Assert.Equal(0, result.SocketErrors);
        Assert.InRange(result.Non2xx3xx, 1, result.Requests - 1); // the 503s before the switch back, 200s after
        foreach (var i in Three)
        {
            Assert.Equal("1.1.0", await Fleet.VersionAsync(i.StagingPort));
            Assert.Equal("1.0.0", await Fleet.VersionAsync(i.ProductionPort));
            Assert.Contains($"{i.Id}: staging serving (maintenance off)", off.SummaryNote("Maintenance"));
        }

        // On again, and a rollback with --end-maintenance ends it once the release serves.
        BuildAssert.Succeeded(await BuildAsync(["Maintenance", "--environment", "staging", "--on", .. both]));
        var ended = await BuildAsync(["Rollback", "--environment", "staging", "--end-maintenance", .. both]);
        BuildAssert.Succeeded(ended);
        foreach (var i in Three)
        {
            Assert.Equal("1.0.0", await Fleet.VersionAsync(i.StagingPort));
            Assert.False(File.Exists(Path.Combine(i.Root, "envs", "staging", "maintenance")), $"{i.Id} still in maintenance");
            Assert.DoesNotContain(i.Id, string.Join('\n', History(i, "production").Where(h => h.Contains("maintenance"))));
        }
    }

    [Fact]
    public async Task Verify_rollback_shows_each_instance_s_retained_target_and_one_whose_image_is_gone_as_missing()
    {
        var (first, second, third) = (Three[0], Three[1], Three[2]);
        // The fake instances share this machine's dockerd, so "deleted on one instance" means one instance retains
        // a release the others never ran: 2.0.0 on the first, 1.0.0 on the others.
        await WriteImageAsync(Fleet.V1);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag));
        await WriteImageAsync(Fleet.Metered);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", first.Id));
        await WriteImageAsync(Fleet.V2);
        BuildAssert.Succeeded(await BuildAsync("DeployStaging", "--skip", "--staging-targets", Fleet.Tag));

        var good = await BuildAsync("Status", "--verify-rollback", "--staging-targets", Fleet.Tag, "--production-targets", Fleet.Tag);

        BuildAssert.Succeeded(good);
        BuildAssert.HasLine(good, l => Regex.IsMatch(l, $"^{first.Id} +staging +2\\.0\\.0 +{Regex.Escape(Fleet.Metered.Digest[..19])}\\S* +ok +on this host; passed /readyz on 127\\.0\\.0\\.1:[0-9]+$"), "the first instance's 2.0.0 ok");
        foreach (var i in new[] { second, third })
            BuildAssert.HasLine(good, l => Regex.IsMatch(l, $"^{i.Id} +staging +1\\.0\\.0 +\\S+ +ok +on this host; passed /readyz on 127\\.0\\.0\\.1:[0-9]+$"), $"{i.Id}'s 1.0.0 ok");

        // 2.0.0 leaves the host and the registry: only the first instance's rollback would fail.
        var docker = Tools.Require("docker", "docker.io");
        await Tools.Run(docker, "image", "rm", "--force", $"{Fleet.Metered.Repository}:{Fleet.Metered.Version}", $"{Fleet.Metered.Repository}@{Fleet.Metered.Digest}");
        using (var http = new HttpClient())
            Assert.True((await http.DeleteAsync($"http://{Fleet.Registry.Address}/v2/e2e-fleet/manifests/{Fleet.Metered.Digest}")).IsSuccessStatusCode);

        var bad = await BuildAsync("Status", "--verify-rollback", "--staging-targets", Fleet.Tag, "--production-targets", Fleet.Tag);

        Assert.Equal($"1 rollback target(s) would not work: staging 2.0.0 on {first.Id}: missing", BuildAssert.TargetFailure(bad, "Status"));
        BuildAssert.HasLine(bad, l => Regex.IsMatch(l, $"^{first.Id} +staging +2\\.0\\.0 +\\S+ +missing +neither on this host nor in {Regex.Escape(Fleet.Registry.Address)} \\(HTTP 404 for {Fleet.Metered.Digest}\\)$"), "the first instance's 2.0.0 missing");
        foreach (var i in new[] { second, third })
        {
            BuildAssert.HasLine(bad, l => Regex.IsMatch(l, $"^{i.Id} +staging +1\\.0\\.0 +\\S+ +ok +on this host; "), $"{i.Id}'s 1.0.0 still ok");
            Assert.Equal("1.1.0", await Fleet.VersionAsync(i.StagingPort));
        }
        Assert.Equal("1.1.0", await Fleet.VersionAsync(first.StagingPort));
    }
}
