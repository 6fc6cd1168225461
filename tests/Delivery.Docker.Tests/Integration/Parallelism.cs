// Three engine collections (each with its own prefix and temp dir) and the SBOM and unit classes beside them.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
