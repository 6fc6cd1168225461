using System.Text.Json;
using Aws.TestEndpoint;
using Delivery.Hosts;
using EndToEnd.Tests.Infrastructure;

namespace EndToEnd.Tests;

/// <summary>
/// ./build.sh deploys to EC2 instances through SSM Run Command: the AWS test endpoint (SigV4, session tokens) runs
/// each command for real on its fake instance, each with its own state root, proxy, containers and ports.
/// </summary>
[Collection(FleetDeployCloneCollection.Name)]
public sealed class FleetDeployTests(CloneFixture clone, FleetFixture fleet) : CloneTests(clone), IClassFixture<FleetFixture>
{
    const string RegistryPassword = "registry-password-that-must-never-print";

    Task<BuildRun> BuildAsync(Dictionary<string, string?>? environment, params string[] arguments)
    {
        var env = environment ?? fleet.AwsEnvironment();
        env["REGISTRY_PASSWORD"] = RegistryPassword;
        // Only the metered images serve metrics: every other deploy here runs without a bake. The fleet's images are
        // pushed by the fixture, without provenance.
        return Clone.BuildAsync(env, [.. arguments.Contains("--bake-seconds") ? arguments : [.. arguments, "--bake-seconds", "0"], "--allow-unattested"]);
    }

    void NoSecrets(params BuildRun[] runs)
    {
        string[] secrets = [AwsTestEndpoint.TemporarySecretKey, AwsTestEndpoint.SessionToken, RegistryPassword];
        foreach (var run in runs)
            foreach (var secret in secrets) BuildAssert.DoesNotContain(run, secret);
        foreach (var text in fleet.Endpoint.CommandTexts)
            foreach (var secret in secrets) Assert.DoesNotContain(secret, text);
    }

    [Fact]
    public async Task Staging_on_one_instance_then_a_promotion_to_production_recorded_in_Parameter_Store()
    {
        var solo = fleet.Instances[3];
        await WriteImageAsync(fleet.V1);
        fleet.Endpoint.ThrottleNext(2); // survived through the SDK's and our own backoff

        var staging = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", solo.Id);

        BuildAssert.Succeeded(staging);
        Assert.Equal("1.0.0", await fleet.VersionAsync(solo.StagingPort));
        Assert.Contains(staging.OutputLines, l => l.StartsWith($"  {solo.Id}  Success   exit 0", StringComparison.Ordinal));
        Assert.Contains(staging.OutputLines, l => l.StartsWith("Recorded 1.0.0 in Parameter Store /webapp/staging/release (version ", StringComparison.Ordinal));
        Assert.StartsWith("1.0.0 on 1 host(s) of staging (:8081) in ", staging.SummaryNote("DeployStaging"));

        var production = await BuildAsync(null, "DeployProduction", "--skip", "--staging-targets", solo.Id, "--production-targets", solo.Id);

        BuildAssert.Succeeded(production);
        Assert.Contains(production.OutputLines, l => l == $"Staging evidence: 1.0.0 ({fleet.V1.ShortDigest}) passed the health gate on {solo.Id}");
        Assert.Equal("1.0.0", await fleet.VersionAsync(solo.ProductionPort));
        Assert.Equal("1.0.0", await fleet.VersionAsync(solo.StagingPort));

        var status = await BuildAsync(null, "Status", "--skip", "--staging-targets", solo.Id, "--production-targets", solo.Id);

        BuildAssert.Succeeded(status);
        Assert.Contains(status.OutputLines, l => l.StartsWith($"{solo.Id}  staging", StringComparison.Ordinal) && l.Contains("1.0.0") && System.Text.RegularExpressions.Regex.IsMatch(l, "  healthy +- +matches$"));
        Assert.Contains(status.OutputLines, l => l.StartsWith($"{solo.Id}  production", StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.IsMatch(l, "  healthy +- +matches$"));
        Assert.Contains(status.OutputLines, l => l.StartsWith("production: Parameter Store /webapp/production/release v", StringComparison.Ordinal) && l.Contains($"1.0.0 ({fleet.V1.Digest[..19]})"));
        NoSecrets(staging, production, status);
    }

    [Fact]
    public async Task A_rolling_fleet_whose_second_instance_fails_switches_the_first_back_and_leaves_the_third_alone()
    {
        var (first, second, third) = (fleet.Instances[0], fleet.Instances[1], fleet.Instances[2]);
        await WriteImageAsync(fleet.V1);
        var v1 = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", fleet.Tag);
        BuildAssert.Succeeded(v1);
        foreach (var i in new[] { first, second, third }) Assert.Equal("1.0.0", await fleet.VersionAsync(i.StagingPort));

        // The second instance lost haproxy (no /usr/sbin on its PATH): it passes the pull check, which needs only the
        // engine, and its deploy fails in its preflight, before it touches anything, after the first one switched.
        second.Fake.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        try
        {
            await WriteImageAsync(fleet.V2);
            // Users until the deploy and its switch back are done, however long that takes on a loaded machine.
            await using var wrk = Wrk.StartUntilStopped(first.StagingPort, TimeSpan.FromMinutes(3));
            var run = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", fleet.Tag);
            var load = await wrk.StopAsync();

            var message = BuildAssert.TargetFailure(run, "DeployStaging");
            Assert.StartsWith($"Deploy of 1.1.0 to staging failed on {second.Id}: ", message);
            Assert.EndsWith($"; switched back: {first.Id}; untouched: {third.Id}", message);
            var table = run.OutputLines.SkipWhile(l => !l.StartsWith("Host  ", StringComparison.Ordinal)).Take(4).ToList();
            Assert.Matches($"^{first.Id}  deployed +switched back +1.0.0$", table[1]);
            Assert.Matches($"^{second.Id}  FAILED: haproxy is not installed on this host .+ +- +unchanged \\(its own health gate kept the old release\\)$", table[2]);
            Assert.Matches($"^{third.Id}  not reached +- +untouched$", table[3]);
            foreach (var i in new[] { first, second, third }) Assert.Equal("1.0.0", await fleet.VersionAsync(i.StagingPort));
            Assert.True(load.Requests > 0, load.ToString());
            Assert.Equal(0, load.FailedRequests);
            NoSecrets(v1, run);
        }
        finally
        {
            second.Fake.Environment.Remove("PATH");
        }
    }

    [Fact]
    public async Task A_release_that_fails_its_bake_on_the_second_instance_switches_the_first_back_and_leaves_the_third_alone()
    {
        var (first, second, third) = (fleet.Instances[0], fleet.Instances[1], fleet.Instances[2]);
        string[] metered = ["--bake-metrics-path", TestImages.MetricsPath, "--bake-probe-budget", "0"];
        await WriteImageAsync(fleet.Metered);
        var good = await BuildAsync(null, ["DeployStaging", "--skip", "--staging-targets", fleet.Tag, "--bake-seconds", "0", .. metered]);
        BuildAssert.Succeeded(good);
        foreach (var i in new[] { first, second, third }) Assert.Equal("2.0.0", await fleet.VersionAsync(i.StagingPort));

        // The bad release fails only on the page users request, and only the second instance has users: the first
        // (no traffic, no probes) passes its bake without a verdict, the second's users meet the 500s.
        await WriteImageAsync(fleet.Serves5xx);
        using var stop = new CancellationTokenSource();
        var users = Users(second.StagingPort, stop.Token);
        var summary = Path.Combine(Path.GetTempPath(), $"e2e-fleet-bake-summary-{fleet.RunId}.md");
        var onGitHub = fleet.AwsEnvironment();
        onGitHub["GITHUB_ACTIONS"] = "true";
        onGitHub["GITHUB_STEP_SUMMARY"] = summary;
        // 10 s: a loaded machine's users sent only 9 requests in 6 s (the release fails 30 % of them).
        var run = await BuildAsync(onGitHub, ["DeployStaging", "--skip", "--staging-targets", fleet.Tag, "--bake-seconds", "10", "--bake-interval", "1", .. metered]);
        stop.Cancel();
        var (answers, unanswered) = await users;
        Console.WriteLine($"users of {second.Id}: {string.Join(", ", answers.Select(a => $"{a.Value} x {a.Key}"))}, {unanswered.Count} unanswered");

        var message = BuildAssert.TargetFailure(run, "DeployStaging");
        Assert.Matches($"^Deploy of 2\\.1\\.0 to staging failed on {second.Id}: 2\\.1\\.0 failed the bake on staging: 5xx rate [0-9.]+ > limit 0\\.01 \\([0-9]+ of [0-9]+ requests\\); rolled back to 2\\.0\\.0; switched back: {first.Id}; untouched: {third.Id}$", message);
        var table = run.OutputLines.SkipWhile(l => !l.StartsWith("Host  ", StringComparison.Ordinal)).Take(4).ToList();
        Assert.Matches($"^{first.Id}  deployed, bake pass: 5xx 0\\.00% \\(limit 1\\.00%\\), p99 n/a \\(limit 0\\.250 s\\), 0 requests in [0-9.]+ s +switched back +2\\.0\\.0$", table[1]);
        Assert.Matches($"^{second.Id}  FAILED: 2\\.1\\.0 failed the bake on staging: 5xx rate [0-9.]+ > limit 0\\.01 \\([0-9]+ of [0-9]+ requests\\); rolled back to 2\\.0\\.0 +- +2\\.0\\.0 \\(its bake switched it back\\)$", table[2]);
        Assert.Matches($"^{third.Id}  not reached +- +untouched$", table[3]);
        var report = File.ReadAllLines(summary);
        File.Delete(summary);
        Assert.Contains($"### Deploy of 2.1.0 to staging (3 host(s))", report);
        Assert.Contains($"| {third.Id} | not reached | - | untouched |", report);
        Assert.Contains(report, l => l.StartsWith($"| {first.Id} | deployed, bake pass: 5xx 0.00% ", StringComparison.Ordinal) && l.EndsWith(" | switched back | 2.0.0 |"));
        Assert.Contains(report, l => l.StartsWith($"| {second.Id} | FAILED: 2.1.0 failed the bake on staging: 5xx rate ", StringComparison.Ordinal) && l.EndsWith(" | - | 2.0.0 (its bake switched it back) |"));
        Assert.Contains(run.OutputLines, l => l.StartsWith($"    {second.Id} | ", StringComparison.Ordinal) && l.Contains("staging serves 2.0.0 again"));
        foreach (var i in new[] { first, second, third }) Assert.Equal("2.0.0", await fleet.VersionAsync(i.StagingPort));
        Assert.Empty(History(third).Where(h => h.Contains("\"2.1.0\"")));
        Assert.Contains(History(first), h => h.Contains("\"2.1.0\""));
        Assert.True(answers.GetValueOrDefault(500) > 0, $"the second instance's users never met the bad release: {string.Join(", ", answers)}");
        Assert.True(unanswered.Count == 0, string.Join("\n", unanswered));
        NoSecrets(good, run);
    }

    static IEnumerable<string> History(FleetFixture.Instance instance) =>
        File.ReadLines(Path.Combine(instance.Root, "envs", "staging", "history.jsonl"));

    /// <summary>Users of one instance: requests to the page, one after another, counted by status; a request with no
    /// answer within 5 s (curl's exit 28), refused or reset is unanswered. The users are their own process, as a
    /// browser is: this test host, busy with the fleet's commands and the build's output on a loaded machine, stalls
    /// its own threads for up to seconds (the proxy's log shows those requests answered in under 0.2 s), and an
    /// in-process client would time its host's stall as the release's.</summary>
    static async Task<(Dictionary<int, int> Answers, List<string> Unanswered)> Users(int port, CancellationToken stop)
    {
        var running = Path.GetTempFileName();
        const string loop = """
            while [ -e "$1" ]; do
              "$2" -s -o /dev/null --max-time 5 -w '%{http_code}\n' "$3" || { code=$?; echo "unanswered at $(date -u +%T.%3N): curl exit $code"; }
              sleep 0.05
            done
            """;
        var users = Delivery.Core.ProcessRunner.RunAsync("bash", ["-c", loop, "users", running, Tools.Require("curl", "curl"), $"http://127.0.0.1:{port}{TestImages.PagePath}"]);
        try { await Task.Delay(Timeout.Infinite, stop); } catch (OperationCanceledException) { }
        File.Delete(running);
        var lines = (await users).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var answers = lines.Where(l => int.TryParse(l, out var code) && code > 0).GroupBy(int.Parse).ToDictionary(g => g.Key, g => g.Count());
        return (answers, lines.Where(l => l.StartsWith("unanswered ", StringComparison.Ordinal)).ToList());
    }

    [Fact]
    public async Task A_broken_release_is_rejected_on_its_instance_with_that_instance_s_output()
    {
        // A release that stops at start fails the health gate at once; one that never answers would hold this test
        // for the default 60 s health timeout (the host tests cover that path with their own short timeout).
        var solo = fleet.Instances[3];
        await WriteImageAsync(fleet.Crashing);

        var run = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", solo.Id);

        var message = BuildAssert.TargetFailure(run, "DeployStaging");
        Assert.StartsWith($"Deploy of 1.3.0 to staging failed on {solo.Id}: ", message);
        Assert.Contains(run.OutputLines, l => l.StartsWith($"  {solo.Id}  Failed    exit 1", StringComparison.Ordinal) && l.Contains("its process stopped"));
    }

    [Fact]
    public async Task Ctrl_C_mid_deploy_cancels_the_command_then_the_switch_back_takes_over_the_killed_run_s_lock_and_removes_its_container()
    {
        var solo = fleet.Instances[3];
        await WriteImageAsync(fleet.Broken); // never ready: the deploy sits in its health gate
        var earlier = fleet.Endpoint.Invocations.Count;
        var docker = Tools.Require("docker", "docker.io");
        string[] brokenRelease = ["--quiet", "--filter", $"label=webapp.app={solo.App}", "--filter", $"label=webapp.digest={fleet.Broken.Digest}"];
        async Task<string[]> Containers(params string[] state) =>
            (await Tools.Run(docker, ["ps", .. state, .. brokenRelease])).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // An earlier test's killed run may have left one behind (the deploy removes it): the deploy's own is a new one.
        var earlierContainers = await Containers("--all");
        var env = BuildScript.CleanEnvironment(fleet.AwsEnvironment());
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(Root, "build.sh"))
        {
            WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // The fixture pushes its images without provenance. A loaded CI machine needs more than GitHub's 7.5 s for the
        // cancel and the switch-back through the test endpoint; no SIGTERM follows here.
        foreach (var a in new[] { "DeployStaging", "--skip", "--staging-targets", solo.Id, "--allow-unattested", "--signal-grace", "60s" }) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var build = System.Diagnostics.Process.Start(psi)!;
        var output = build.StandardOutput.ReadToEndAsync();
        var errors = build.StandardError.ReadToEndAsync();
        var lockDir = Path.Combine(solo.Root, "envs", "staging", "lock");
        // Up to 5 minutes: the clone's first ./build.sh compiles the build, slow on a loaded machine.
        for (var i = 0; i < 3000 && !build.HasExited && !(Directory.Exists(lockDir) && fleet.Endpoint.Invocations.Skip(earlier).Any(x => x.Status == "InProgress")); i++)
            await Task.Delay(100);
        Assert.True(Directory.Exists(lockDir), $"the deploy never took its lock{(build.HasExited ? $":\n{await output}{await errors}" : "")}");
        // The deploy's new container runs (its health gate waits on it): the kill cannot land inside its docker run,
        // whose container the engine could still create after the switch-back looked (a fixed 2 s after the lock did
        // not ensure that on a loaded machine, and a kill before the start left nothing for the switch-back to remove).
        for (var i = 0; i < 1200 && !build.HasExited && !(await Containers()).Except(earlierContainers).Any(); i++)
            await Task.Delay(100);
        Assert.True(!build.HasExited && (await Containers()).Except(earlierContainers).Any(), $"the deploy's container never ran{(build.HasExited ? $":\n{await output}{await errors}" : "")}");

        Assert.Equal(0, kill(build.Id, 2)); // SIGINT, as a terminal's Ctrl-C
        await build.WaitForExitAsync();

        var text = await output + await errors;
        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains($"cancelling SSM command", text);
        // The pull check ran first (and passed), and the switch-back follows the cancelled deploy.
        Assert.Single(fleet.Endpoint.Invocations.Skip(earlier), i => i.Status == "Cancelled");
        // The agent SIGKILLs the script's process group, so no trap runs; the switch-back that follows at once finds
        // that the killed run never switched, takes its lock over (its holder is dead) and removes its container.
        Assert.True(text.Split('\n').Any(l => l.StartsWith($"{solo.Id}: cancelled while running (", StringComparison.Ordinal)
            && l.Contains("; its deploy never switched, so nothing to switch back; serves ")), text);
        Assert.False(Directory.Exists(lockDir), $"the killed run's lock is still there:\n{text}");
        Assert.Empty(await Containers("--all"));
        Assert.DoesNotContain("   at ", text);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int signal);

    [Fact]
    public async Task No_credentials_and_an_execution_timeout_fail_in_one_line_naming_what_was_tried_or_reached()
    {
        var solo = fleet.Instances[3];
        await WriteImageAsync(fleet.Broken);
        var none = fleet.AwsEnvironment();
        foreach (var name in new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" })
            none[name] = null;
        none["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials";
        none["AWS_CONFIG_FILE"] = "/nonexistent/config";
        // The pull check runs under the same fixed executionTimeout as the deploy: with the release already on the
        // engine, the 8 s meet only the deploy's health gate, not a first pull that a loaded machine can stretch past them.
        await Tools.RunChecked(Tools.Require("docker", "docker.io"), "pull", $"{fleet.Broken.Repository}@{fleet.Broken.Digest}");

        var noCredentials = await BuildAsync(none, "DeployStaging", "--skip", "--staging-targets", solo.Id);
        var timedOut = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", solo.Id, "--execution-timeout", "8");

        Assert.StartsWith("No AWS credentials found (tried environment variables, profile, SSO, web identity, container and instance role): ",
            BuildAssert.TargetFailure(noCredentials, "DeployStaging"));
        var message = BuildAssert.TargetFailure(timedOut, "DeployStaging");
        Assert.StartsWith($"Deploy of 1.2.0 to staging failed on {solo.Id}: execution timeout (executionTimeout 8 s) reached; ", message);
        Assert.Contains(timedOut.OutputLines, l => l.StartsWith($"  {solo.Id}  TimedOut", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_secret_key_is_rejected_in_one_line()
    {
        const string wrong = "wrong/secret+key-that-must-never-print";
        await WriteImageAsync(fleet.V1);

        var run = await BuildAsync(fleet.AwsEnvironment(wrong), "DeployStaging", "--skip", "--staging-targets", fleet.Instances[3].Id);

        // The pre-flight (DescribeInstanceInformation) is the first signed request, before anything is sent.
        Assert.Equal("SSM DescribeInstanceInformation failed: InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
            BuildAssert.TargetFailure(run, "DeployStaging"));
        BuildAssert.DoesNotContain(run, wrong);
    }

    [Fact]
    public async Task Bad_targets_fail_in_one_line_and_change_nothing()
    {
        await WriteImageAsync(fleet.V1);
        var before = fleet.Endpoint.Invocations.Count;

        var unmanaged = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", "i-0000000000000dead");
        var noMatch = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", "tag:Role=nobody");
        var region = await BuildAsync(null, "DeployStaging", "--skip", "--staging-targets", fleet.Instances[3].Id, "--aws-region", "xx-nowhere-9");
        fleet.Endpoint.RemoveParameter("/webapp/staging/release");
        var env = BuildScript.CleanEnvironment(new Dictionary<string, string?> { ["CI"] = "true" });
        var onCi = await Clone.BuildAsync(env, "DeployStaging", "--skip");
        var promotion = await BuildAsync(null, "DeployProduction", "--skip", "--staging-targets", "tag:Role=nobody-else", "--production-targets", fleet.Instances[3].Id);

        Assert.Equal("Deploy of 1.0.0 to staging: nothing was sent; 1 of 1 instance(s) cannot take a command: i-0000000000000dead (not managed: no SSM agent registered) (bring them back, or pass --skip-offline to roll the others)",
            BuildAssert.TargetFailure(unmanaged, "DeployStaging"));
        Assert.Equal("tag:Role=nobody matches no SSM-managed instance; nothing was deployed to staging", BuildAssert.TargetFailure(noMatch, "DeployStaging"));
        Assert.Equal("Unknown AWS region 'xx-nowhere-9' (expected a name such as eu-west-1)", BuildAssert.TargetFailure(region, "DeployStaging"));
        Assert.Equal("No SSM targets for staging: set --staging-targets (STAGING_TARGETS) to instance ids or tag:Key=Value (or 'local' for this machine); " +
                     "a CI build never deploys to its runner unless told so",
            BuildAssert.TargetFailure(onCi, "DeployStaging"));
        Assert.StartsWith("No staging release record in Parameter Store (/webapp/staging/release)", BuildAssert.TargetFailure(promotion, "DeployProduction"));
        Assert.Equal(before, fleet.Endpoint.Invocations.Count);
    }
}
