// Package server is the one package that knows pgwire, replica and
// sqlengine together, and holds the policy between them.
//
// Files:
//   - server.go: Config, Server, Open and Shutdown; crash.go: Crash, the
//     abrupt stop for tests and fault drills;
//   - raft.go: builds the Raft node (replica.Open, join, forwarding's
//     handler), and is the only file that holds a *replica.Node; every other
//     file reaches it through the interface it declares (replicator in
//     server.go, consistencyNode in consistency.go, leaderLink in
//     forward.go, clusterNode in http.go);
//   - session.go: sessions, which implement pgwire.Session; statement.go
//     and cursor.go: prepared statements, portals and SQL cursors;
//     settings.go and utility.go: parameters, SET/SHOW and transaction
//     control; the node's translate.Cache keeps translations and row
//     descriptions (Server.translations);
//   - copy.go: COPY FROM STDIN as batches of INSERTs in one transaction,
//     COPY TO STDOUT as a streamed read (DESIGN.md §4, "COPY");
//     bigtxn.go: COMMIT of a transaction larger than one entry (its parts,
//     then its final entry) and pgraft.max_transaction_size;
//   - route.go: where each statement runs; txn.go: the transaction state
//     machine; txwriter.go: where a writing block runs, a localWriter on
//     the leader or a forwardedWriter on a follower; gate.go: the write
//     gate on the leader (DESIGN.md §4); pipeline.go: COMMIT of a write
//     on the leader through the pipeline (docs/design.md §4);
//   - consistency.go: the read consistency levels, and the wait before
//     translation (awaitSchema; DESIGN.md §6); clock.go: the session's
//     transaction and statement start, which reads' now() and
//     statement_timestamp() return and a new entry's time is taken from
//     (DESIGN.md §6, "Time in reads");
//     advisory.go: PostgreSQL's advisory locks, held on the leader;
//     snapshots.go: pg_export_snapshot and SET TRANSACTION SNAPSHOT, the
//     node's exported snapshots by id (DESIGN.md §6);
//     sequences.go: currval/lastval session state, and the entry that
//     spends a rolled-back transaction's nextval values;
//   - forward.go: the follower side of write forwarding; forward_leader.go:
//     the leader-side sessions that run forwarded statements;
//     forward_proto.go: its messages, in replica's frames (DESIGN.md §7);
//   - errors.go: replica outcomes as SQLSTATEs; fault.go: a node that
//     cannot apply the log (DESIGN.md §8); diskspace.go: the free-space
//     check before writes; http.go: /healthz, /readyz, /status, /remove;
//     admin.go: who may use the administration endpoints; metrics.go:
//     /metrics; statuspage.go (and statuspage/): the status page at /
//     and /status/history; activity.go: the rows of pg_stat_activity,
//     pg_stat_replication and pg_stat_wal_receiver (sqlengine.NodeStats);
//   - roles.go: roles and SCRAM authentication, and the bootstrap
//     superuser; tls.go: TLS for clients, its certificate reloaded by
//     ReloadTLS.
//
// Goroutines:
//   - the PostgreSQL and HTTP accept loops, owned by Server and stopped by
//     Shutdown (pgwire runs each connection's);
//   - the fault watcher (fault.go), which hands leadership away from a
//     leader that cannot apply, and, with a bootstrap superuser configured,
//     the goroutine that creates it once this node leads (roles.go), and
//     the status page's sampler (statuspage.go, once a second); all owned
//     by Server (bgWG) and ended by Shutdown's bgCtx;
//   - per forwarding connection on the leader, the goroutine replica's port
//     hands it to (serveForward) and one frame reader it starts and waits
//     for; both end when the connection closes, which Shutdown does;
//   - timers, each stopped by its owner: one per session transaction that
//     holds the write gate (pgraft.idle_write_timeout), stopped when the
//     transaction ends; one per follower session's link to the leader
//     (Config.ForwardIdleTimeout), stopped when the link closes; a
//     statement's statement_timeout, stopped when the statement ends.
//
// Leader readiness (no write before the new leader applied its
// predecessors' entries) is replica's: waitWritable waits for
// replica.Node.WaitLeaderReady.
//
// Invariants:
//   - A write is acknowledged only with the leader's own Apply result, after
//     its entry committed (I4); an unknown outcome is 40003.
//   - At most one interactive write transaction holds the gate, and so the
//     write connection, at a time (I5).
//   - Session state is touched by the connection's goroutine, and by the
//     idle timer only under session.mu.
//   - Every wait and every SQLite step of a statement runs under its
//     statement context (session.statementContext): statement_timeout,
//     CancelRequest and a client gone (pgwire's check) end it with 57014,
//     interrupting SQLite; streaming rows follow whichever Execute or FETCH
//     reads them (portal.link).
//   - At most Config.MaxConnections client sessions (53300 beyond), and a
//     read connection for each of them plus readReserve: one session's long
//     read never starves another's. /healthz runs a real SELECT 1.
//   - server never imports raft, the frame codec or gob (dag_test.go):
//     Raft and node-to-node framing are replica's.
package server
