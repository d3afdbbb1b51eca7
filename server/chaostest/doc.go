// Package chaostest runs an in-process pgraft cluster under faults while
// clients run workloads against every node, and checks what the clients
// saw against what the database promises (DESIGN.md §2: I4 no acknowledged
// write lost and no phantom write, I6 no split brain, I1/I3 every node ends
// with the same state).
//
// One run (Run) is: start a servertest.Cluster, create the workloads'
// tables, start the clients, inject faults for Config.Duration on a
// schedule drawn from a math/rand generator seeded with Config.Seed, stop
// the clients, heal, restart, wait for convergence, then check:
//
//   - register: reads, blind writes and compare-and-set (UPDATE … WHERE
//     v = old) on a few keys through every node at linearizable
//     consistency, checked with porcupine against a register model. An
//     operation whose outcome is unknown (40003, a timeout, a connection
//     lost during the statement) may or may not have taken effect; the
//     model allows both.
//   - set: unique inserts through every node; at the end every
//     acknowledged insert is on every node, and nothing is there that was
//     not attempted with an unknown outcome.
//   - convergence: every node has the same applied index and
//     pgraft_checksum().
//
// The seed fixes the fault schedule and each client's choice of
// operations, not the interleaving: a replay runs the same faults at the
// same offsets, so a violation reproduces often but not always.
//
// Goroutines: Run's caller (the test goroutine) drives the cluster and the
// faults, since servertest.Cluster is for the test goroutine only. Each
// client is one goroutine owned by Run, started before the faults and
// stopped (context cancelled, then waited for) before the final checks.
// Clients touch the cluster only through TCP, using addresses that stay
// the same across restarts.
package chaostest
