// Package proccluster runs real pgraft processes for tests: the
// end-to-end tests (cmd/pgraft) and the process backend of the fault
// suite (test/chaos) start, kill and restart nodes through it.
//
// Files:
//   - binary.go: Binary builds cmd/pgraft once per test binary, on first
//     use; the test package's TestMain removes it.
//   - cluster.go: Config, Node and Cluster. New places nodes (free
//     127.0.0.1 ports, data dirs and logs in the test's temporary
//     directory; a caller may move them, e.g. into network namespaces,
//     before the first start); Start runs `pgraft serve` and waits for
//     /readyz; Kill (SIGKILL), Stop (SIGTERM, clean exit required), Pause
//     and Resume (SIGSTOP, SIGCONT); the cleanup.
//   - status.go: GET /status, the leader (pg_is_in_recovery, without
//     waiting, or WaitLeader), a node's applied index and
//     pgraft_checksum() (State), Settle and RequireConverged.
//
// Node 0 bootstraps on its first start; every other start names the
// nodes started so far in --join, which a node with Raft state ignores. A
// node's log file collects every start's stdout and stderr.
//
// Goroutines: one waiter per process, which ends when the process exits;
// it reports an exit nobody asked for (Config.Exited, else the test
// fails). The cleanup registered by New ends every process: by default
// SIGTERM, failing the test unless each exits cleanly (so every
// end-to-end test checks graceful shutdown too), or kill -9 with
// Config.KillOnCleanup. After a failure it first has every running node
// write its goroutines to its log (SIGQUIT), then keeps the logs,
// databases and Raft logs in a directory it names in the test log.
//
// Cluster methods are for the test goroutine only. Clients reach nodes on
// the addresses in Node, which stay the same across restarts; every
// address New picks is on 127.0.0.1.
package proccluster
