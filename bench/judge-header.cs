#:project ../src/Delivery.Hosts/Delivery.Hosts.csproj
// The paired judge's rendered variables header (PairedJudge.AddJudge) for bench/bake-judge.sh, so the bench runs the
// judge with the values a deploy's plan would give it: judge-header.cs CONFIDENCE SHIFT BUDGET MIN_PAIRS.
using System.Globalization;
using Delivery.Hosts.Bake;
using Delivery.Hosts.Scripts;

var bake = new BakeSettings
{
    Duration = TimeSpan.FromSeconds(30),
    Confidence = double.Parse(args[0], CultureInfo.InvariantCulture),
    ToleratedShift = double.Parse(args[1], CultureInfo.InvariantCulture),
    ProbeBudget = int.Parse(args[2], CultureInfo.InvariantCulture),
    MinPairs = int.Parse(args[3], CultureInfo.InvariantCulture),
};
bake.Validate();
Console.Write(new ScriptValues().AddJudge(bake).Render(ShellFiles.Text("judge.sh")));
