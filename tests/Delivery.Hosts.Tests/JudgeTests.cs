using System.Diagnostics;
using System.Globalization;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;
using Delivery.Hosts.Tests.Infrastructure;

namespace Delivery.Hosts.Tests;

/// <summary>The paired bake judge (Scripts/judge.sh) run for real under bash and awk on generated pairs, with the
/// variables header a plan renders for it (PairedJudge.AddJudge).</summary>
public sealed class JudgeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("hdt-judge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly BakeSettings Defaults = new() { Duration = TimeSpan.FromSeconds(30) };

    /// <summary>The per-look level the default budget gives, as judge.sh prints it (%.3g).</summary>
    static readonly string DefaultAlpha = PairedJudge.NominalLevel(1 - Defaults.Confidence, Defaults.Looks).ToString("G3", CultureInfo.InvariantCulture).Replace(".", "\\.");

    static string Header(BakeSettings judge) => new ScriptValues().Add("curl", "curl").Add("probe_paths", ["/"]).AddJudge(judge)
        .Render(ShellFiles.Text("judge.sh"));

    async Task<HostResult> Bash(string body, BakeSettings? judge = null) =>
        await new LocalHost().RunAsync("set -euo pipefail\nexec 2>&1\n" + Header(judge ?? Defaults) + ShellFiles.Text("judge.sh") + body);

    string Pairs(IEnumerable<string> lines)
    {
        var file = Path.Combine(_dir, $"pairs-{Guid.NewGuid():N}");
        File.WriteAllLines(file, lines);
        return file;
    }

    /// <summary>Lognormal latencies around 12 ms (the new side times <paramref name="factor"/>), seeded, so the data is
    /// the same on every run; <paramref name="newErrors"/> pairs get a 500 from the new release.</summary>
    static List<string> Generated(int count, double factor, int seed, int newErrors = 0)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{0.012 * Math.Exp(0.25 * Normal()):0.000000} 200 {0.012 * factor * Math.Exp(0.25 * Normal()):0.000000} {(i < newErrors ? 500 : 200)}")).ToList();
    }

    /// <summary>The rank-sum statistic of the new side against the previous side scaled by (1 + tolerance), computed
    /// here independently of the awk (average ranks for ties), to check the number the judge prints.</summary>
    static double MannWhitneyU(IEnumerable<string> lines, double tolerance)
    {
        var pairs = lines.Select(l => l.Split(' ')).Select(f => (Old: double.Parse(f[0], CultureInfo.InvariantCulture), New: double.Parse(f[2], CultureInfo.InvariantCulture))).ToList();
        var all = pairs.Select(p => (Value: Math.Round(p.Old * (1 + tolerance), 9), IsNew: false))
            .Concat(pairs.Select(p => (Value: p.New, IsNew: true))).OrderBy(v => v.Value).ToList();
        double rankSum = 0;
        for (var i = 0; i < all.Count;)
        {
            var j = i;
            while (j + 1 < all.Count && all[j + 1].Value == all[i].Value) j++;
            for (var k = i; k <= j; k++) if (all[k].IsNew) rankSum += (i + j + 2) / 2.0;
            i = j + 1;
        }
        return rankSum - pairs.Count * (pairs.Count + 1) / 2.0;
    }

    [Fact]
    public async Task The_rank_test_matches_a_textbook_computation_with_ties()
    {
        // Previous 1,2,3,4 s and new 3,5,6,7 s, no tolerance, one look at 0.95: ranks 1 2 3.5 3.5 5 6 7 8, so U = 14.5;
        // the tie correction gives sd = sqrt(16/12 * (9 - 6/56)) = 3.4434, z = 6.5 / sd = 1.888, and the one-sided p with
        // continuity correction Q(6 / sd) = 0.0407 (R: wilcox.test(new, old, "greater", exact = FALSE) gives W = 14.5,
        // p-value = 0.04071).
        var file = Pairs(["1 200 3 200", "2 200 5 200", "3 200 6 200", "4 200 7 200"]);
        var result = await Bash($"judge_pairs '{file}' 1\n", Defaults with { ToleratedShift = 0, MinPairs = 4, ProbeBudget = 20 });
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("slower 4 14.5 1.888 0.0407 0.979 2500.000 5500.000 0 0 1 0.05", result.Lines.Single());
    }

    [Fact]
    public async Task A_release_twice_as_slow_fails_with_the_statistic_p_value_medians_and_error_rates_in_its_line()
    {
        var pairs = Generated(40, factor: 2, seed: 1);
        var file = Pairs(pairs);
        var result = await Bash($"read -r -a f < <(judge_pairs '{file}' 0)\necho \"${{f[0]}}\"\njudge_describe \"${{f[@]}}\"\n");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("slower", result.Lines[0]);
        var u = MannWhitneyU(pairs, 0).ToString("0.0", CultureInfo.InvariantCulture);
        Assert.Matches(
            $@"^slower than the previous release, beyond the tolerated 10%: Mann-Whitney U={u.Replace(".", "\\.")}, z=[0-9.]+, p=[0-9.e-]+ < {DefaultAlpha}; " +
            @"median (?<new>[0-9.]+) ms \(new\) vs (?<old>[0-9.]+) ms \(previous\), error rate 0\.0% \(new, 0/40\) vs 0\.0% \(previous, 0/40\), 40 pairs$",
            result.Lines[1]);
        var medians = System.Text.RegularExpressions.Regex.Match(result.Lines[1], @"median ([0-9.]+) ms \(new\) vs ([0-9.]+) ms");
        var ratio = double.Parse(medians.Groups[1].Value, CultureInfo.InvariantCulture) / double.Parse(medians.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.InRange(ratio, 1.6, 2.5);
    }

    [Fact]
    public async Task An_identical_release_passes_before_the_window_ends()
    {
        // Latencies vary by 25 % (lognormal sigma 0.25), so telling "within 10 %" takes more than a few dozen pairs.
        var file = Pairs(Generated(150, factor: 1, seed: 2));
        var result = await Bash($"read -r -a f < <(judge_pairs '{file}' 0)\necho \"${{f[0]}} ${{f[1]}}\"\njudge_describe \"${{f[@]}}\"\n");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("pass 150", result.Lines[0]);
        Assert.StartsWith("not slower than the previous release beyond 10%: Mann-Whitney U=", result.Lines[1]);
    }

    [Fact]
    public async Task Too_few_pairs_wait_during_the_window_and_give_no_verdict_at_its_end()
    {
        var file = Pairs(Generated(12, factor: 3, seed: 3));
        var result = await Bash($"""
            judge_pairs '{file}' 0 | cut -d' ' -f1-2
            read -r -a f < <(judge_pairs '{file}' 1)
            judge_describe "${"{"}f[@]{"}"}"

            """);
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("wait 12", result.Lines[0]);
        Assert.StartsWith("no verdict: 12 pairs, fewer than the 20 the judge needs; median ", result.Lines[1]);
    }

    [Fact]
    public async Task A_release_that_errs_where_the_previous_does_not_fails_on_the_exact_test_of_discordant_pairs()
    {
        // 9 pairs where only the new release answered 500, none the other way: p = 0.5^9 = 0.00195, below the per-look level.
        var file = Pairs(Generated(30, factor: 1, seed: 4, newErrors: 9));
        var result = await Bash($"read -r -a f < <(judge_pairs '{file}' 0)\necho \"${{f[0]}} ${{f[8]}} ${{f[9]}} ${{f[10]}}\"\njudge_describe \"${{f[@]}}\"\n");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal("errors 0 9 0.00195", result.Lines[0]);
        Assert.Matches($@"^errs more often than the previous release: exact test on discordant pairs p=0\.00195 < {DefaultAlpha}; .*error rate 30\.0% \(new, 9/30\) vs 0\.0% \(previous, 0/30\), 30 pairs$", result.Lines[1]);
    }

    [Fact]
    public async Task A_release_that_errs_a_little_more_does_not_pass_early_and_is_inconclusive_at_the_end_of_the_window()
    {
        // 2 discordant errors (p = 0.25) are not significant, but they keep the judge from passing before the end.
        var file = Pairs(Generated(150, factor: 1, seed: 2, newErrors: 2));
        var result = await Bash($"judge_pairs '{file}' 0 | cut -d' ' -f1\nread -r -a f < <(judge_pairs '{file}' 1)\necho \"${{f[0]}}\"\njudge_describe \"${{f[@]}}\"\n");
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal(["wait", "inconclusive"], result.Lines.Take(2));
        Assert.StartsWith("no confident verdict by the end of the bake: Mann-Whitney U=", result.Lines[2]);
    }

    [Fact]
    public async Task More_planned_looks_lower_the_level_of_each_look()
    {
        // The textbook data's p = 0.0407 fails with one look (a budget of one round: alpha 0.05) but not with two
        // (a budget of two rounds: Pocock's 0.030 per look).
        var file = Pairs(["1 200 3 200", "2 200 5 200", "3 200 6 200", "4 200 7 200"]);
        var judge = Defaults with { ToleratedShift = 0, MinPairs = 4 };
        var result = await Bash($"judge_pairs '{file}' 0 | cut -d' ' -f1,12\n", judge with { ProbeBudget = 20 });
        Assert.Equal("slower 0.05", result.Lines.Single());
        result = await Bash($"judge_pairs '{file}' 0 | cut -d' ' -f1,12\n", judge with { ProbeBudget = 40 });
        Assert.True(result.Succeeded, result.Tail());
        Assert.Equal($"wait {PairedJudge.NominalLevel(0.05, 2).ToString("G3", CultureInfo.InvariantCulture)}", result.Lines.Single());
    }

    [Theory]
    // Pocock's constants (Jennison & Turnbull, Group Sequential Methods, table 2.1; one-sided at half the two-sided
    // alpha): K = 2 at 0.05 two-sided, c = 2.178; K = 5, c = 2.413; K = 2 at 0.10, c = 1.875.
    [InlineData(0.025, 2, 2.178)]
    [InlineData(0.025, 5, 2.413)]
    [InlineData(0.05, 2, 1.875)]
    public void The_per_look_level_is_pocock_s_boundary(double alpha, int looks, double c)
    {
        var level = PairedJudge.NominalLevel(alpha, looks);
        Assert.InRange(level, PairedJudge.UpperTail(c + 0.01), PairedJudge.UpperTail(c - 0.01));
        // Far above Bonferroni's share for many looks: the looks are correlated.
        Assert.True(PairedJudge.NominalLevel(0.05, 50) > 5 * 0.05 / 50);
        Assert.Equal(0.05, PairedJudge.NominalLevel(0.05, 1));
    }

    [Fact]
    public async Task Each_probe_is_recorded_on_its_releases_side_whichever_went_first_and_an_unanswered_one_is_code_000()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        var www = Directory.CreateDirectory(Path.Combine(_dir, "www")).FullName;
        File.WriteAllText(Path.Combine(www, "index.html"), "ok\n");
        var port = Tools.FreePort();
        using var httpd = Process.Start(new ProcessStartInfo(busybox, ["httpd", "-f", "-p", $"127.0.0.1:{port}", "-h", www])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            for (var i = 0; i < 50 && (await Tools.Get($"http://127.0.0.1:{port}/")).Status != 200; i++) await Task.Delay(100);
            var closed = Tools.FreePort();
            var file = Path.Combine(_dir, "probes");
            // Two rounds with the previous release down: every pair must name it 000 and the new one 200, whichever went first.
            var result = await Bash($"judge_round {closed} {port} '{file}'\njudge_round {closed} {port} '{file}'\nls '{_dir}' | grep '^probes'\n");
            Assert.True(result.Succeeded, result.Tail());
            var lines = File.ReadAllLines(file);
            Assert.Equal(2 * BakeSettings.PairsPerLook, lines.Length);
            Assert.Equal(["probes"], result.Lines);   // the streams' files are gone
            Assert.All(lines, l => Assert.Matches(@"^[0-9.]+ 000 [0-9.]+ 200$", l));
        }
        finally
        {
            httpd.Kill();
            await httpd.WaitForExitAsync();
        }
    }

    [Fact]
    public void Settings_are_rendered_quoted_and_checked_in_one_line()
    {
        var judge = Defaults with { Confidence = 0.99, ToleratedShift = 0.25, MinPairs = 30, ProbeBudget = 140 };
        var alpha = PairedJudge.NominalLevel(0.01, 7).ToString("0.######", CultureInfo.InvariantCulture);
        Assert.Equal($"curl='curl'\nprobe_paths=('/')\njudge_confidence='0.99'\njudge_tolerance='0.25'\njudge_min_pairs='30'\njudge_step='20'\njudge_streams='2'\njudge_alpha='{alpha}'\n",
            Header(judge));
        var error = Assert.Throws<Delivery.Core.DeliveryException>(() => (Defaults with { Confidence = 1 }).Validate());
        Assert.Equal("The bake judge's confidence must be between 0.5 and 0.9999, not 1.", error.Message);
        error = Assert.Throws<Delivery.Core.DeliveryException>(() => (Defaults with { MinPairs = 2 }).Validate());
        Assert.Equal("The bake judge's minimum pair count must be between 4 and 10000, not 2.", error.Message);
        error = Assert.Throws<Delivery.Core.DeliveryException>(() => (Defaults with { ProbeBudget = -1 }).Validate());
        Assert.Equal("The bake's probe budget must be between 0 and 100000 pairs, not -1.", error.Message);
    }
}
