// Most of these tests wait: on ./build.sh child processes, on fake instances' health gates and SSM polls. Each test
// collection has its own clone, fleet, endpoint, registry and ports, and holds its tests one at a time. The run is as
// long as its longest collection, so every clone collection starts at once: nine is the eight clone collections that
// run in parallel (the signal tests run alone afterwards) plus one slot for the short ones, the shallow clone and the
// classes without a clone. Fewer would queue a long collection behind another and lengthen that chain; more would
// only add contention, since the CPU work on 2 cores is the same either way.
[assembly: CollectionBehavior(MaxParallelThreads = 9)]
