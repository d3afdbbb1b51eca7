// Package sqlengine is everything SQL and SQLite: it translates PostgreSQL
// statements to SQLite (translate.go, emit_*.go, infer.go), maps types and
// OIDs (types.go), answers catalog queries from SQLite's schema (catalog.go),
// makes writes deterministic (determinism.go), encodes log payloads
// (codec.go), and applies entries, takes snapshots and restores them
// (apply.go, snapshot.go). It knows nothing of Raft: Engine satisfies
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
//   - A data error fails only its own entry (a savepoint per entry);
//     any other apply error panics: halting beats diverging.
//   - No Go function SQLite calls lets a panic unwind through SQLite's C
//     frames (recoverCallback): it would leave the connection locked.
//   - Every value a statement builds is at most maxValueSize (54000 past
//     it), and every connection has the same SQLite limits (limits.go):
//     both decide whether a write fails, so they are part of determinism.
//   - A query nested deeper than maxParseDepth fails with 54001 before
//     pg_query sees it (stackdepth.go): its C recursion could overflow the
//     thread's stack and kill the process.
package sqlengine
