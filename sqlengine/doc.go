// Package sqlengine is everything SQL and SQLite: it translates PostgreSQL
// statements to SQLite (translate.go, emit_*.go, infer.go), maps types
// (types.go; their OIDs and value rules are pgvalue's), answers catalog queries from SQLite's schema (catalog.go),
// makes writes deterministic (determinism.go), bounds their work
// (budget.go), encodes log payloads (codec.go), and applies entries, takes
// snapshots and restores them (apply.go, fault.go, snapshot.go). It knows nothing of Raft: Engine satisfies
// replica.StateMachine through a small adapter in server.
//
// Connections: exactly one SQLite write connection, used by ApplyBatch and
// lent to at most one interactive transaction at a time (WriteTx); a pool of
// query_only read connections, each with the catalog TEMP VIEWs; one
// in-memory helper connection for SQLite's own date functions.
//
// Goroutines: none of its own. database/sql's pool is closed by Close.
//
// Invariants:
//   - Nothing writes to the database outside ApplyBatch and Restore, except a
//     WriteTx's speculative work, which is always rolled back (I1).
//   - The applied index is stored in the same SQLite transaction as the
//     entries' effects and published only after COMMIT; entries at or below
//     it are skipped (I2).
//   - On the write connection, time and randomness come from the entry's
//     ExecContext; functions that would differ between nodes fail (I3).
//   - Every write statement runs under a deterministic work budget of
//     SQLite virtual-machine steps (budget.go), on the leader before it is
//     proposed (WriteTx, PreRun) and on every node when applied: one that
//     runs out fails with 54000 at the same step everywhere.
//   - A data error fails only its own entry (a savepoint per entry). Any
//     other apply error is a fault of this node (fault.go): the batch rolls
//     back whole and is retried until it applies or StopApplying; nothing
//     a client sends makes apply panic.
//   - Client statements run sandboxed (authorizer.go): an SQLite authorizer
//     on every connection refuses pgraft's and SQLite's own tables and the
//     pragma_* functions (42P01), every function outside an allowlist
//     (42883), and PRAGMA, ATTACH, TEMP objects, triggers and virtual
//     tables (42501). pgraft's own statements run with internal access,
//     which no statement prepared meanwhile keeps.
//   - No Go function SQLite calls lets a panic unwind through SQLite's C
//     frames (recoverCallback): it would leave the connection locked.
//   - Every value a statement builds is at most maxValueSize (54000 past
//     it), and every connection has the same SQLite limits (limits.go):
//     both decide whether a write fails, so they are part of determinism.
//   - A query nested deeper than maxParseDepth fails with 54001 before
//     pg_query sees it (stackdepth.go): its C recursion could overflow the
//     thread's stack and kill the process.
package sqlengine
