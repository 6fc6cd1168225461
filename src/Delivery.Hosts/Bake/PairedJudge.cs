using System.Globalization;
using Delivery.Core;
using static Delivery.Hosts.ShellQuote;

namespace Delivery.Hosts.Bake;

/// <summary>
/// The paired bake judge's settings: the previous release, warm out of rotation during the bake, answers the same
/// probes as the new one, and the two latency samples are compared with a Mann-Whitney U test (Kayenta's
/// MannWhitneyClassifier defaults to a 0.95 confidence level); error counts with an exact test on the discordant pairs.
/// </summary>
public sealed record PairedJudgeSettings
{
    /// <summary>Confidence of every verdict over the whole bake, all looks together.</summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>The slowdown tolerated before a release counts as slower: 0.1 = up to 10 % slower passes.</summary>
    public double Tolerance { get; init; } = 0.1;
    /// <summary>No verdict on fewer pairs than this; at the end of the window that is "no verdict", not a rollback.</summary>
    public int MinPairs { get; init; } = 20;

    public void Validate()
    {
        if (Confidence is <= 0.5 or >= 1 || double.IsNaN(Confidence))
            throw new DeliveryException($"The bake judge's confidence must be above 0.5 and below 1, not {Confidence.ToString(CultureInfo.InvariantCulture)}.");
        if (Tolerance is < 0 or > 10 || double.IsNaN(Tolerance))
            throw new DeliveryException($"The bake judge's tolerated slowdown must be between 0 and 10 (0.1 = 10 %), not {Tolerance.ToString(CultureInfo.InvariantCulture)}.");
        if (MinPairs is < 4 or > 10_000)
            throw new DeliveryException($"The bake judge's minimum pair count must be between 4 and 10000, not {MinPairs}.");
    }
}

/// <summary>The judge's shell side (<c>Bake/judge.sh</c>, embedded) and the variables header it reads.</summary>
public static class PairedJudge
{
    /// <summary>The shell functions: paired_probe, judge_pairs, judge_describe.</summary>
    public static string Functions { get; } = ReadScript();

    /// <summary>The judge's variables; <paramref name="looks"/> is the most times the bake will ask for a verdict,
    /// which splits the error budget (1 - confidence) between the looks.</summary>
    public static string Settings(PairedJudgeSettings judge, int looks)
    {
        judge.Validate();
        if (looks < 1) throw new DeliveryException($"The bake judge needs at least one look, not {looks}.");
        return $"""
            judge_confidence={Quote(Number(judge.Confidence))}
            judge_tolerance={Quote(Number(judge.Tolerance))}
            judge_min_pairs={judge.MinPairs}
            judge_looks={looks}

            """;
    }

    static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    static string ReadScript()
    {
        using var stream = typeof(PairedJudge).Assembly.GetManifestResourceStream("Delivery.Hosts.Bake.judge.sh")
            ?? throw new InvalidOperationException("judge.sh is not embedded in Delivery.Hosts.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }
}
