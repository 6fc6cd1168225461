// The three deploy collections (each deploys from a repository of its own, see HostFixture) run side by side with the
// other classes. They mostly wait (health gates, drains, bakes), so running them together overlaps their waits while
// the CPU work stays the same: the whole project took 880 s one collection at a time and 244 s side by side, both at
// about 140 CPU-s (one session, on a machine loaded by other work). Four: one per deploy collection and one for the
// playbook, shellcheck and the unit classes.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
