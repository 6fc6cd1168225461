using Delivery.Core.Testing;

namespace Delivery.Core.Tests;

/// <summary>
/// The run with a stand-in for <c>dotnet</c>: a shell script that answers <c>dotnet test</c> as the real one does,
/// writing the TRX file its <c>--logger</c> and <c>--results-directory</c> ask for (or not, or exiting non-zero).
/// </summary>
public sealed class DotNetTestRunTests : IDisposable
{
    readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    string FakeDotNet()
    {
        var script = dir.File("dotnet", """
            #!/bin/sh
            # dotnet test <project> ... --logger trx;LogFileName=<name> --results-directory <dir> [--filter <f>]
            project=$2
            while [ $# -gt 0 ]; do
              case $1 in
                --logger) name=${2#trx;LogFileName=}; shift ;;
                --results-directory) results=$2; shift ;;
                --filter) filter=$2; shift ;;
              esac
              shift
            done
            echo "testing $(basename "$project") filter=${filter:-none} niceness=$(nice)"
            case $project in
              *NoResults*) exit 1 ;;
              *Failing*) outcome=Failed ;;
              *) outcome=Passed ;;
            esac
            printf '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results><UnitTestResult testName="T.one" outcome="%s" duration="00:00:01" /><UnitTestResult testName="T.two" outcome="Passed" duration="00:00:02" /></Results></TestRun>' "$outcome" > "$results/$name"
            [ "$outcome" = Passed ]
            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return script;
    }

    [Fact]
    public async Task Adds_up_each_projects_trx_and_names_each_problem()
    {
        var projects = new[] { "A.Tests", "Failing.Tests", "NoResults.Tests" }.Select(n => new TestProject(n, $"/repo/tests/{n}/{n}.csproj", [])).ToList();
        var output = new List<string>();

        var summary = await DotNetTestRun.RunAsync(projects, new DotNetTestOptions
        {
            DotNet = FakeDotNet(), Configuration = "Debug", ResultsDirectory = Path.Combine(dir.Path, "results"), Filter = "Name", Parallelism = 2,
        }, _ => { }, line => { lock (output) output.Add(line); });

        Assert.Equal("Tests: 3 passed, 1 failed, 0 skipped", summary.Line);
        Assert.Equal(["1 failed in Failing.Tests", "NoResults.Tests produced no test results (exit code 1)"], summary.Problems);
        Assert.Contains(output, l => l.StartsWith("[A.Tests] testing A.Tests.csproj filter=Name niceness=", StringComparison.Ordinal));
        Assert.Equal(["A.Tests", "Failing.Tests", "NoResults.Tests"], summary.Projects.Select(p => p.Project.Name));
    }

    [Fact]
    public async Task Every_project_but_the_critical_path_runs_niced_by_the_increment_asked_for()
    {
        var projects = new[] { "Long.Tests", "Short.Tests", "Other.Tests" }.Select(n => new TestProject(n, $"/repo/tests/{n}/{n}.csproj", [])).ToList();
        var output = new List<string>();

        await DotNetTestRun.RunAsync(projects, new DotNetTestOptions
        {
            DotNet = FakeDotNet(), Configuration = "Debug", ResultsDirectory = Path.Combine(dir.Path, "results"), Parallelism = 3,
            EarlierDurations = new Dictionary<string, TimeSpan> { ["Long.Tests"] = TimeSpan.FromMinutes(5), ["Short.Tests"] = TimeSpan.FromSeconds(9) },
            OffCriticalPathNiceness = 3,
        }, _ => { }, line => { lock (output) output.Add(line); });

        int Niceness(string project) => int.Parse(output.Single(l => l.StartsWith($"[{project}] testing", StringComparison.Ordinal)).Split("niceness=")[1]);
        // Relative to the critical path's: this test may itself run niced, in a full ./build.sh Test.
        Assert.Equal(Niceness("Long.Tests") + 3, Niceness("Short.Tests"));
        Assert.Equal(Niceness("Long.Tests") + 3, Niceness("Other.Tests"));
    }

    [Fact]
    public async Task The_times_file_lists_each_project_and_the_total_and_reads_back()
    {
        var projects = new[] { new TestProject("A.Tests", "/repo/tests/A.Tests/A.Tests.csproj", []) };
        var summary = await DotNetTestRun.RunAsync(projects, new DotNetTestOptions
        {
            DotNet = FakeDotNet(), Configuration = "Debug", ResultsDirectory = Path.Combine(dir.Path, "results"),
        }, _ => { }, _ => { });
        var file = dir.File("test-times.tsv", TestTimes.Format(summary));

        var lines = File.ReadAllLines(file);
        Assert.Equal(TestTimes.Header, lines[0]);
        Assert.Matches(@"^A\.Tests\t\d+\.\d\t2\t0\t0$", lines[1]);
        Assert.Matches(@"^total\t\d+\.\d\t2\t0\t0$", lines[2]);
        Assert.Equal(["A.Tests", "total"], TestTimes.ReadDurations(file).Keys.Order());
        Assert.Empty(TestTimes.ReadDurations(Path.Combine(dir.Path, "missing.tsv")));

        var later = dir.File("later.tsv", TestTimes.Header + "\nA.Tests\t7.5\t1\t0\t0\nB.Tests\t3.0\t1\t0\t0\n");
        var both = TestTimes.ReadDurations(file, later, Path.Combine(dir.Path, "missing.tsv"));
        Assert.Equal(TimeSpan.FromSeconds(7.5), both["A.Tests"]);
        Assert.Equal(TimeSpan.FromSeconds(3), both["B.Tests"]);
        Assert.Equal(TestTimes.ReadDurations(file)["total"], both["total"]);
    }
}
