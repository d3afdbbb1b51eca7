// Package pgvalue holds PostgreSQL 15's rules for values, written once for
// every package that needs them: pgwire, which reads parameters and writes
// rows, and sqlengine, whose SQL functions cast and print values inside
// SQLite. A rule here cites the PostgreSQL function it follows, and a
// change to one is checked against PostgreSQL itself.
//
// Files:
//   - oid.go: type OIDs (the type table is sqlengine/translate/types.go).
//   - bool.go: boolin's spellings (ParseBool).
//   - bytea.go: byteain's hex and escape formats, and the hex output.
//   - float.go: float8out and float4out with the default
//     extra_float_digits, and numeric_out for a numeric held as a float64.
//   - numeric.go: numeric_in's syntax, numeric(p,s) rounding, and how
//     pgraft holds a numeric (an int64 or an exact float64; 0A000 beyond).
//   - datetime.go: date, time, timestamp and timestamptz output
//     (DateStyle ISO), UTC offsets, and InfiniteTime (infinity and
//     -infinity, their input and text); timetz.go: Timetz, time with time
//     zone's text and binary forms.
//   - timezone.go: TimeZone settings (zone names, numeric offsets and the
//     "<-07>+07" names PostgreSQL gives fixed offsets).
//   - errors.go: the input functions' shared error.
//
// Goroutines: none. State: none; every function is pure.
//
// Invariants:
//   - Errors are *pgerror.Error with PostgreSQL's SQLSTATE and message, the
//     input quoted as PostgreSQL quotes it (not Go-escaped).
//   - It imports nothing of pgraft's but pgwire/pgerror, and neither
//     SQLite, Raft, pgx nor pg_query (server/dag_test.go).
package pgvalue
