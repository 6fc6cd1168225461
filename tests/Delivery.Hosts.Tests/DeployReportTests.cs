using Delivery.Hosts.Bake;

namespace Delivery.Hosts.Tests;

public sealed class DeployReportTests
{
    const string Digest = "sha256:3b014c88238c15dd26baea87f6e910cc66692e5a58d62eea057d30c9c7acc3fc";

    [Fact]
    public void A_passed_bake_reports_the_measured_rate_and_p99_against_their_limits()
    {
        var report = new DeployReport("staging", "1.4.0", Digest, "0123456789abcdef0123", ["local"], "2026-12-01T01:02:03Z",
            TimeSpan.FromMilliseconds(14.2),
            new BakeReport(BakeVerdict.Pass, Requests: 412, Errors: 1, ErrorRate: 0.0024, MaxErrorRate: 0.01, P95: 0.009, P99: 0.0121,
                P99Limit: 0.25, BaselineP99: 0.011, Probes: 100, Seconds: 30.02), "1.4.0");
        Assert.Equal(
            """
            ### Deploy to staging

            | | |
            |---|---|
            | Environment | staging |
            | Version | `1.4.0` |
            | Digest | `sha256:3b014c88238c15dd26baea87f6e910cc66692e5a58d62eea057d30c9c7acc3fc` |
            | Commit | `0123456789ab` |
            | Instances | local |
            | Switched at | 2026-12-01T01:02:03Z |
            | Switch | 14 ms |
            | Bake | ✅ passed after 30 s |
            | 5xx rate | 0.24% (limit 1.00%, 1 of 412 requests) |
            | p99 | 0.012 s (limit 0.250 s; previous release 0.011 s) |
            | Serving now | `1.4.0` |

            """, report.ToMarkdown());
    }

    [Fact]
    public void A_failed_bake_reports_the_reason_and_the_time_to_rollback()
    {
        var report = new DeployReport("production", "2.0.0", Digest, null, ["i-0aa", "i-0bb"], null, null,
            new BakeReport(BakeVerdict.Fail, Requests: 341, Errors: 96, ErrorRate: 0.2815, MaxErrorRate: 0.01, P99: 0.0498, P99Limit: 0.25,
                Rule: "error-rate", Reason: "5xx rate 0.2815 > limit 0.01 (96 of 341 requests)", TimeToRollback: TimeSpan.FromMilliseconds(1070)), null);
        Assert.Equal(
            """
            ### Deploy to production

            | | |
            |---|---|
            | Environment | production |
            | Version | `2.0.0` |
            | Digest | `sha256:3b014c88238c15dd26baea87f6e910cc66692e5a58d62eea057d30c9c7acc3fc` |
            | Commit | unknown |
            | Instances | i-0aa, i-0bb |
            | Switched at | not switched |
            | Switch | n/a |
            | Bake | ❌ failed: 5xx rate 0.2815 > limit 0.01 (96 of 341 requests); rolled back after 1.1 s |
            | 5xx rate | 28.15% (limit 1.00%, 96 of 341 requests) |
            | p99 | 0.050 s (limit 0.250 s; previous release n/a) |

            """, report.ToMarkdown());
    }

    [Fact]
    public void A_bake_the_paired_judge_ended_early_reports_its_verdict_and_line()
    {
        const string line = "not slower than the previous release beyond 10%: Mann-Whitney U=700.0, z=-0.35, p(slower)=0.64, p(beyond 10%)=0.0012; " +
                            "median 1.204 ms (new) vs 1.198 ms (previous), error rate 0.0% (new, 0/40) vs 0.0% (previous, 0/40), 40 pairs";
        var host = new HostOutput(new HostResult(0, [$"webapp-deploy: data: {{\"kind\":\"bake\",\"verdict\":\"pass\",\"requests\":80,\"errors\":0," +
            $"\"error_rate\":0,\"max_error_rate\":0.01,\"p95\":0.004,\"p99\":0.005,\"p99_limit\":0.25,\"baseline_p99\":0.005,\"probes\":80,\"pairs\":40," +
            $"\"judge\":\"pass\",\"judge_line\":\"{line}\",\"seconds\":1.734}}"]));
        var bake = host.Bake!;
        Assert.Equal((BakeVerdict.Pass, 40, "pass", line, 1.734), (bake.Verdict, bake.Pairs, bake.Judge, bake.JudgeLine, bake.Seconds));
        var markdown = new DeployReport("staging", "1.4.0", Digest, null, ["local"], "t", null, bake, "1.4.0").ToMarkdown();
        Assert.Contains("| Bake | ✅ passed after 1.7 s |\n", markdown);
        Assert.Contains($"| Paired judge | pass: {line} |\n", markdown);
        Assert.EndsWith($"; judge: {line}", bake.ToString());
    }

    [Fact]
    public void Without_a_bake_the_report_says_so_and_shows_no_rates()
    {
        var markdown = new DeployReport("staging", "1.0.0", Digest, "abc1234", ["local"], "t", TimeSpan.FromMilliseconds(3), BakeReport.Off, "1.0.0").ToMarkdown();
        Assert.Contains("| Bake | off |\n", markdown);
        Assert.DoesNotContain("5xx rate", markdown);
    }
}
