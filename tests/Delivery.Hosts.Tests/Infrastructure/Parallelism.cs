// The deploy tests mostly wait (health gates, drains, bakes, wrk) and their collections share no bed, proxy or port,
// so more tests run at once than there are cores (xunit's default); each collection still runs its tests one at a time.
[assembly: CollectionBehavior(MaxParallelThreads = 6)]
