// The three deploy collections (each deploys from a repository of its own, see HostFixture) run side by side with the
// other classes. They mostly wait (health gates, drains, bakes), so running them together overlaps their waits; the
// CPU work is the same either way. Four: one per deploy collection and one for the playbook, shellcheck and the unit
// classes. Measured: see the i21-time note.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
