// Package pgvalue holds PostgreSQL 15's facts about values, written once for
// every package that needs them: pgwire, which reads parameters and writes
// rows, and sqlengine, which translates and runs statements.
//
// Files:
//   - oid.go: type OIDs (the type table is sqlengine's types.go).
//
// Goroutines: none. State: none.
//
// Invariants:
//   - It imports nothing of pgraft's but pgwire/pgerror, and neither
//     SQLite, Raft, pgx nor pg_query (server/dag_test.go).
package pgvalue
