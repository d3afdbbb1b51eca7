// Package translate turns PostgreSQL statements into SQLite ones. It reads
// PostgreSQL's own parse tree (pg_query) and emits SQLite SQL from it,
// never editing the input text: every construct the emitters do not know
// fails with 0A000 naming it, so a statement is either translated
// faithfully or refused. It knows the schema only through the Schema
// interface (sqlengine's SchemaSnapshot implements it) and never touches a
// SQLite connection: sqlengine runs what it makes.
//
// Files:
//   - translate.go: SQL, the entry point, and the translator every emitter
//     hangs off; stmt.go: Stmt, what a translation is (Kind decides where a
//     statement runs); schema.go: Schema and Options, what translation
//     reads.
//   - emit_select.go, emit_from.go, emit_expr.go, emit_ops.go,
//     emit_func.go: queries, FROM, expressions, operators and casts,
//     function calls; emit_srf.go: set-returning functions (unnest,
//     json_each, …) in FROM and select lists, and LATERAL subqueries, read
//     through json_each;
//     emit_json.go: json and jsonb operators and functions; emit_dml.go: INSERT, UPDATE, DELETE, TRUNCATE;
//     emit_ddl.go, emit_alter.go: CREATE, DROP and their kin;
//     emit_alter_table.go: ALTER TABLE/INDEX/VIEW, RENAME, SET SCHEMA, as
//     the AlterSpec of alter_spec.go that the engine carries out;
//     reloptions.go: storage parameters (WITH (…)), checked and ignored;
//     emit_utility.go: transactions, SET/SHOW, cursors and the statements
//     that only talk to the server.
//   - emit_copy.go: COPY … FROM STDIN / TO STDOUT as a CopyStmt (options,
//     columns, the INSERT prefix or the query) that the server runs.
//   - sequence.go: CREATE/ALTER/DROP SEQUENCE, nextval/setval/currval/
//     lastval, serial and identity columns (SequenceSpec, what the engine
//     runs).
//   - infer.go: types of expressions and parameters, and name scopes.
//   - types.go: the PostgreSQL types pgraft knows and how each is held in
//     SQLite (its declared type), the storage conventions execution and the
//     catalog rely on too.
//   - catalog_names.go, catalog_types.go: the pg_catalog and
//     information_schema relations translation maps to the engine's views,
//     and their typed columns; catalog_stats.go: pg_stat_activity,
//     pg_stat_replication and pg_stat_wal_receiver, which become queries
//     over a function of the session's user (NodeStatsQuery).
//   - bounded.go: INSERTs whose work is small and fixed (Stmt.Bounded).
//   - stackdepth.go: the depth check that keeps pg_query's C recursion off
//     a thread's stack limit (54001).
//   - literals.go and shape.go: queries that differ only in their
//     constants share one translation (Shape).
//   - cache.go: Cache, the translations (and the caller's descriptions) of
//     recent query strings for one schema at a time, in bounded LRUs.
//
// Goroutines: none. A translation is used by one goroutine; a Stmt, a
// Shape and a Cache are safe for concurrent use.
//
// Invariants:
//   - A translation depends on its text, its Schema and its Options alone:
//     it reads no clock, no randomness and no connection.
//   - A query nested deeper than maxParseDepth fails with 54001 before
//     pg_query sees it (stackdepth.go).
//   - A Stmt is never changed after SQL or a Shape returns it, so caches
//     and prepared statements share it.
//   - It imports neither SQLite nor Raft nor pgx (server/dag_test.go); of
//     pgraft only pgvalue and pgwire/pgerror.
package translate
