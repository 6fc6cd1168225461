using Delivery.Core.Testing;

namespace Delivery.Core.Tests;

/// <summary>The scheduler with stand-in runs that record which projects overlapped.</summary>
public sealed class TestProjectSchedulerTests
{
    static TestProject P(string name, params string[] resources) => new(name, name + ".csproj", resources);

    sealed class Recorder
    {
        readonly List<string> running = [];
        public List<string> Starts { get; } = [];
        public List<(string, string)> Overlaps { get; } = [];
        public int MostAtOnce { get; private set; }

        public async Task<string> Run(TestProject project, TimeSpan time)
        {
            lock (running)
            {
                foreach (var other in running) Overlaps.Add((other, project.Name));
                running.Add(project.Name);
                Starts.Add(project.Name);
                MostAtOnce = Math.Max(MostAtOnce, running.Count);
            }
            await Task.Delay(time);
            lock (running) running.Remove(project.Name);
            return project.Name + " done";
        }
    }

    [Fact]
    public async Task Projects_that_share_a_resource_never_overlap_and_the_others_do()
    {
        var projects = new[] { P("A", "apt"), P("B"), P("C", "apt"), P("D") };
        var recorder = new Recorder();

        var results = await TestProjectScheduler.RunAsync(projects, 3, null, (p, _, _) => recorder.Run(p, TimeSpan.FromMilliseconds(150)));

        Assert.Equal(["A done", "B done", "C done", "D done"], results);
        Assert.DoesNotContain(recorder.Overlaps, o => o is ("A", "C") or ("C", "A"));
        Assert.Contains(recorder.Overlaps, o => o is ("A", "B") or ("B", "A"));
        Assert.Equal(3, recorder.MostAtOnce);
    }

    [Fact]
    public async Task The_longest_project_of_an_earlier_run_starts_first_and_one_at_a_time_is_sequential()
    {
        var projects = new[] { P("A"), P("B"), P("C") };
        var earlier = new Dictionary<string, TimeSpan> { ["C"] = TimeSpan.FromMinutes(4), ["B"] = TimeSpan.FromSeconds(30) };
        var recorder = new Recorder();

        await TestProjectScheduler.RunAsync(projects, 1, earlier, (p, _, _) => recorder.Run(p, TimeSpan.FromMilliseconds(20)));

        Assert.Equal(["C", "B", "A"], recorder.Starts);
        Assert.Empty(recorder.Overlaps);
    }

    [Fact]
    public async Task Only_beside_the_longest_project_of_an_earlier_run_are_the_others_off_the_critical_path()
    {
        var projects = new[] { P("A"), P("B"), P("C") };
        var earlier = new Dictionary<string, TimeSpan> { ["B"] = TimeSpan.FromMinutes(4), ["C"] = TimeSpan.FromSeconds(30) };

        async Task<string[]> Off(IReadOnlyList<TestProject> run, int parallelism, IReadOnlyDictionary<string, TimeSpan>? durations) =>
            (await TestProjectScheduler.RunAsync(run, parallelism, durations, (p, off, _) => Task.FromResult(off ? p.Name : null)))
                .OfType<string>().ToArray();

        Assert.Equal(["A", "C"], await Off(projects, 3, earlier));
        Assert.Empty(await Off(projects, 1, earlier));
        Assert.Empty(await Off(projects, 3, null));
        Assert.Empty(await Off(projects, 3, new Dictionary<string, TimeSpan> { ["Other"] = TimeSpan.FromMinutes(1) }));
        Assert.Empty(await Off([P("C")], 3, earlier));
    }

    [Fact]
    public async Task A_parallelism_below_one_is_refused()
    {
        var error = await Assert.ThrowsAsync<DeliveryException>(() =>
            TestProjectScheduler.RunAsync([P("A")], 0, null, (p, _, _) => Task.FromResult(p.Name)));
        Assert.Equal("The test parallelism must be at least 1, not 0", error.Message);
    }
}
