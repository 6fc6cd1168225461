using System.Collections.Concurrent;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Bake;

/// <summary>
/// The paired bake judge (Scripts/judge.sh): the previous release, warm out of rotation during the bake, answers the
/// same probes as the new one, and the two latency samples are compared with a Mann-Whitney U test (Kayenta's
/// MannWhitneyClassifier defaults to a 0.95 confidence level); error counts with an exact test on the discordant pairs.
/// The judge looks after every <see cref="BakeSettings.PairsPerLook"/> pairs and stops at the first confident verdict,
/// so each look tests at the nominal level of a Pocock group-sequential boundary: the one level that, used at every
/// look, keeps the chance of any false verdict over all the looks at 1 - confidence.
/// </summary>
public static class PairedJudge
{
    /// <summary>The judge's variables for judge.sh, with the rest of a plan's values.</summary>
    public static ScriptValues AddJudge(this ScriptValues values, BakeSettings bake) =>
        values.Add("judge_confidence", bake.Confidence)
            .Add("judge_tolerance", bake.ToleratedShift)
            .Add("judge_min_pairs", bake.MinPairs)
            .Add("judge_budget", bake.ProbeBudget)
            .Add("judge_step", BakeSettings.PairsPerLook)
            .Add("judge_streams", BakeSettings.ProbeStreams)
            .Add("judge_alpha", NominalLevel(1 - bake.Confidence, bake.Looks));

    static readonly ConcurrentDictionary<(double, int), double> Levels = new();

    /// <summary>
    /// The per-look significance level of a one-sided Pocock boundary: with Z_k the standardised statistic after k of
    /// <paramref name="looks"/> equally spaced looks (a Gaussian random walk S_k / sqrt k under the null), the constant c
    /// with P(max_k Z_k &gt;= c) = <paramref name="alpha"/>, returned as Q(c). Fewer looks than planned (the window ended
    /// first) only lower that chance. c is the (1 - alpha) quantile of the maximum over simulated walks from a fixed
    /// seed, so a plan's text is the same on every render; rounded down to 4 significant digits.
    /// </summary>
    public static double NominalLevel(double alpha, int looks)
    {
        if (alpha is <= 0 or >= 1 || double.IsNaN(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha));
        if (looks < 1) throw new ArgumentOutOfRangeException(nameof(looks));
        if (looks == 1) return Round(alpha);
        return Levels.GetOrAdd((alpha, looks), key =>
        {
            var (a, k) = key;
            var paths = Math.Max(20_000, 4_000_000 / k);
            var random = new Random(20);
            var maxima = new double[paths];
            for (var p = 0; p < paths; p++)
            {
                double sum = 0, max = double.NegativeInfinity;
                for (var i = 1; i <= k; i++)
                {
                    sum += Normal(random);
                    max = Math.Max(max, sum / Math.Sqrt(i));
                }
                maxima[p] = max;
            }
            Array.Sort(maxima);
            var c = maxima[Math.Min(paths - 1, (int)Math.Ceiling((1 - a) * paths))];
            return Round(UpperTail(c));
        });
    }

    static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Q(z) = erfc(z / sqrt 2) / 2 (the Chebyshev fit of erfc, fractional error below 1.2e-7), as judge.sh has it.</summary>
    public static double UpperTail(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + 0.5 * x);
        var e = t * Math.Exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? e / 2 : 1 - e / 2;
    }

    static double Round(double level)
    {
        var scale = Math.Pow(10, 3 - Math.Floor(Math.Log10(level)));
        return Math.Floor(level * scale) / scale;
    }
}
