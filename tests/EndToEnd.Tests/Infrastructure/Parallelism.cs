// Most of these tests wait: on ./build.sh child processes, on fake instances' health gates and SSM polls. Each test
// collection has its own clone, fleet, endpoint, registry and ports, so more of them run at once than there are cores
// (xunit's default); the collections hold the tests that share a clone one at a time.
[assembly: CollectionBehavior(MaxParallelThreads = 8)]
