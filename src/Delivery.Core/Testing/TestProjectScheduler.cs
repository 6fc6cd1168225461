namespace Delivery.Core.Testing;

/// <summary>
/// Runs test projects side by side: at most <c>parallelism</c> at a time, never two that declare the same shared
/// resource, the longest first (by the durations of an earlier run, when known) so the longest does not start last.
/// </summary>
public static class TestProjectScheduler
{
    public static async Task<IReadOnlyList<TResult>> RunAsync<TResult>(
        IReadOnlyList<TestProject> projects,
        int parallelism,
        IReadOnlyDictionary<string, TimeSpan>? earlierDurations,
        Func<TestProject, CancellationToken, Task<TResult>> run,
        CancellationToken cancellationToken = default)
    {
        if (parallelism < 1) throw new DeliveryException($"The test parallelism must be at least 1, not {parallelism}");
        var queue = projects
            .OrderByDescending(p => earlierDurations?.GetValueOrDefault(p.Name) ?? TimeSpan.Zero)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
        var results = new Dictionary<TestProject, TResult>();
        var running = new Dictionary<Task<TResult>, TestProject>();
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
                running.Add(run(project, cancellationToken), project);
            }
            var done = await Task.WhenAny(running.Keys);
            var finished = running[done];
            running.Remove(done);
            foreach (var resource in finished.SharedResources) held.Remove(resource);
            results[finished] = await done;
        }
        return projects.Select(p => results[p]).ToList();
    }
}
