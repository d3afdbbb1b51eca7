// Package chaos runs a pgraft cluster under faults while clients run
// workloads against every node, and checks what the clients saw against
// what the database promises (DESIGN.md §2: I4 no acknowledged write lost
// and no phantom write, I6 no split brain, I1/I3 every node ends with the
// same state; §3 entry time).
//
// One run (Run) is: start a cluster, create the workloads' tables, start
// the clients, inject faults for Config.Duration on a schedule drawn from
// a math/rand generator seeded with Config.Seed, stop the clients, heal,
// restart, wait for convergence, then check.
//
// Backends (the cluster interface is the seam: workloads and checkers use
// only PostgreSQL addresses; the nemesis and convergence use its fault
// and state methods):
//
//   - inproc: servertest.Cluster in this process. Faults: crash (leader
//     or any), isolate (leader or any), clock jump (Config.Now).
//   - proc: `pgraft serve` processes run by test/proccluster (the
//     harness the end-to-end tests use too), each in its own network
//     namespace behind one bridge (netLab) with its data dir on its own
//     64 MB tmpfs. Faults: kill -9 and restart, SIGSTOP/SIGCONT, isolate,
//     bridge (A–B–C), a 3+2 split with 5 nodes, disk full, clock jump
//     (--fault-clock-file). Without namespaces it runs on 127.0.0.1
//     without partitions, without tmpfs without disk faults, and says so
//     in Result.Notes.
//
// Workloads and checks:
//
//   - register: reads, blind writes and compare-and-set (UPDATE … WHERE
//     v = old) on a few keys through every node at linearizable
//     consistency, checked with porcupine against a register model. An
//     operation whose outcome is unknown (40003, a timeout, a connection
//     lost during the statement) may or may not have taken effect; the
//     model allows both.
//   - set: unique inserts through every node; at the end every
//     acknowledged insert is on every node, and nothing is there that was
//     not attempted with an unknown outcome. Each row stores now(): an
//     insert sent after another was acknowledged never stores an earlier
//     time, across failovers and clock jumps (checkTimeOrder).
//   - bank: interactive transfers (READ COMMITTED and REPEATABLE READ)
//     through every node and readers of the total at linearizable and
//     session consistency: every total read equals the initial one, and
//     the final balances are the initial ones plus every acknowledged
//     transfer plus a subset of the unknown ones (explainBalances). Each
//     transfer also inserts its ID into chaos_bank_xfer, so every node is
//     checked transfer by transfer (checkTransfers): an acknowledged one
//     missing is lost, a failed one present is a phantom, and the balances
//     are exactly what the stored transfers make. A failed data dir is kept
//     (inproc: its path is logged).
//   - convergence: every node has the same applied index and
//     pgraft_checksum().
//
// The seed fixes the fault schedule and each client's choice of
// operations, not the interleaving: a replay runs the same faults at the
// same offsets, so a violation reproduces often but not always.
//
// Goroutines: Run's caller (the test goroutine) drives the cluster and the
// faults; cluster methods are for it only. Each client is one goroutine
// owned by Run, started before the faults and stopped (context cancelled,
// then waited for) before the final checks. For the proc backend,
// proccluster owns one waiter goroutine per process, which ends when the
// process exits, and its cleanup kills every process (keeping a failed
// run's logs, databases and Raft logs); the backend's own cleanup, which
// runs after it, unmounts the volumes and deletes the namespaces and the
// bridge, also when the test fails. A new lab removes the leftovers of an
// earlier test process that died.
//
// Files:
//   - harness.go: Config, Result and Run (setup, clients, nemesis,
//     convergence, checks); cluster.go: the cluster seam, the fault
//     kinds, node comparison; nemesis.go: the fault schedule.
//   - inproc.go and proc.go: the two backends; netns.go: netLab, the
//     namespaces, bridge and cuts of the proc backend.
//   - client.go: connections and what an error means for an operation's
//     outcome (classify); register.go, set.go and bank.go: the workloads
//     and their checks; explain.go: explainBalances and checkTimeOrder;
//     summary.go: the table a run of many seeds ends with.
//   - chaos_test.go: TestChaosShort (in `make test`) and TestChaos (`make
//     chaos`, configured by PGRAFT_CHAOS_* variables); check_test.go and
//     explain_test.go: the checkers on hand-made histories;
//     commitcut_test.go and repro_test.go: reductions of bugs the runs
//     found; netns_test.go: a cut is a silent partition.
package chaos
