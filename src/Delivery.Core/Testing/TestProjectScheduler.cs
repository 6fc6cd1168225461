namespace Delivery.Core.Testing;

/// <summary>
/// Runs test projects side by side: at most <c>parallelism</c> at a time, never two that declare the same shared
/// resource, the longest first (by the durations of an earlier run, when known) so the longest does not start last.
/// That longest project is the run's critical path: the run cannot end before it does. <c>run</c> is told whether a
/// project is off that path, so it can yield to it; none is when nothing runs beside it or no earlier time is known.
/// </summary>
public static class TestProjectScheduler
{
    public static async Task<IReadOnlyList<TResult>> RunAsync<TResult>(
        IReadOnlyList<TestProject> projects,
        int parallelism,
        IReadOnlyDictionary<string, TimeSpan>? earlierDurations,
        Func<TestProject, bool, CancellationToken, Task<TResult>> run,
        CancellationToken cancellationToken = default)
    {
        if (parallelism < 1) throw new DeliveryException($"The test parallelism must be at least 1, not {parallelism}");
        var queue = projects
            .OrderByDescending(p => earlierDurations?.GetValueOrDefault(p.Name) ?? TimeSpan.Zero)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
        var critical = parallelism > 1 && queue.Count > 1 && earlierDurations?.GetValueOrDefault(queue[0].Name) > TimeSpan.Zero
            ? queue[0] : null;
        var results = new Dictionary<TestProject, TResult>();
        // Each start is its own task (a run may hand back a cached, completed one).
        var running = new List<Task<(TestProject Project, TResult Result)>>();
        var held = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        while (queue.Count > 0 || running.Count > 0)
        {
            // Start every queued project that fits, in queue order: a free slot and none of its resources held.
            for (var i = 0; i < queue.Count && running.Count < parallelism;)
            {
                var project = queue[i];
                if (project.SharedResources.Any(held.Contains)) { i++; continue; }
                queue.RemoveAt(i);
                foreach (var resource in project.SharedResources) held.Add(resource);
                running.Add(Start(project));
            }
            var done = await Task.WhenAny(running);
            running.Remove(done);
            var (finished, result) = await done;
            foreach (var resource in finished.SharedResources) held.Remove(resource);
            results[finished] = result;
        }
        return projects.Select(p => results[p]).ToList();

        async Task<(TestProject, TResult)> Start(TestProject project) =>
            (project, await run(project, critical is not null && project != critical, cancellationToken));
    }
}
