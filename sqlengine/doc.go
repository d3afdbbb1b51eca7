// Package sqlengine keeps a node's data in SQLite and runs what
// translation made of client statements there (its subpackage translate
// turns PostgreSQL into SQLite and never touches a connection). It answers
// catalog queries from SQLite's schema, makes writes deterministic, bounds
// their work, encodes log payloads, and applies entries, takes snapshots
// and restores them. It knows nothing of Raft: Engine satisfies
// replica.StateMachine through a small adapter in server.
//
// Files:
//   - engine.go: Engine, Open and Close, the connections and their setup;
//     conn.go the connector and SQL-function errors; connlock.go the write
//     connection's lock; rawconn.go the few SQLite C calls go-sqlite3 lacks.
//   - apply.go: ApplyBatch (entries in log order, a savepoint each);
//     fault.go: faults of this node during apply; snapshot.go: Snapshot,
//     Persist and Restore.
//   - read.go: reads on the pool (Query, Describe, ReadTx, Checksum); a
//     ReadTx's snapshot can be shared by several sessions (Share);
//     readclock.go: a read connection's clock, the session's transaction
//     and statement start its now() and statement_timestamp() return
//     (WithClock);
//     write.go: WriteTx (an interactive transaction on the write
//     connection) and PreRun (an autocommit write run and rolled back);
//     stage.go: transactions larger than one entry (the spool of parts,
//     _pgraft_staged, part, final and discard entries); pipeline.go:
//     commit pipelining on the leader (the epoch, matching, breaking,
//     the chain check).
//   - sequences.go: sequences (_pgraft_sequences), nextval and setval as
//     SQL functions of the write connection; sequences_ddl.go: the
//     sequence DDL (pgraft_seq_ddl); sequences_raw.go: the nested queries
//     they run on it.
//   - codec.go: the log payload; determinism.go: time, randomness and
//     connection state on the write connection; budget.go: the work budget
//     of writes; limits.go: value sizes and SQLite's limits; checksum.go:
//     pgraft_checksum().
//   - authorizer.go, authorizer_conn.go, authorizer_export.go (with
//     authorizer.h): the sandbox every connection runs client statements in.
//   - schema_load.go: SchemaSnapshot, the schema translation reads (it
//     implements translate.Schema); schema_model.go and schema_parse.go:
//     what sqlite_schema's CREATE TABLE texts say in PostgreSQL terms;
//     viewcheck.go: no schema change leaves a view that cannot be read;
//     alter.go: ALTER TABLE carried out at apply time (translate.AlterSpec),
//     alter_text.go its edits of the CREATE TABLE text, alter_deps.go what
//     depends on a table, alter_rebuild.go the table rebuild where SQLite
//     cannot alter in place.
//   - catalog.go, catalog_funcs.go, catalog_infoschema.go: the pg_catalog
//     and information_schema views every read connection has; nodestats.go:
//     the functions behind the node-local views pg_stat_activity,
//     pg_stat_replication and pg_stat_wal_receiver (Config.NodeStats on
//     read connections, 0A000 on the write connection).
//   - roles.go: the role store (_pgraft_roles); acl.go: ownership and
//     privileges (_pgraft_acl), the copy the server checks statements
//     against, and the owners DDL records; acl_grant.go: GRANT, REVOKE,
//     default privileges, OWNER TO; acl_catalog.go: has_*_privilege() and
//     acldefault().
//   - functions.go and functions_*.go: the pg_* SQL functions translation
//     emits (functions_srf.go: the rows of set-returning functions, as
//     JSON for SQLite's json_each; functions_jsonb.go: json and jsonb
//     operators, functions and aggregates, printed as PostgreSQL prints them
//     (functions_jsonb_ops.go: what the operators do to decoded values);
//     functions_agg.go: string_agg(DISTINCT …) and the ordered-set
//     aggregates; functions_arrayops.go: array functions and
//     regexp_replace/regexp_match; functions_numeric.go: exact numeric's
//     pg_numeric* functions (functions_numeric_power.go: power, exp, ln,
//     log), numeric_agg.go and numeric_agg_export.go its
//     sum and avg, window functions through SQLite's C API);
//     functions_infinity.go: infinite dates and timestamps (their storage,
//     casts, arithmetic, extract, isfinite, and pg_cast as old entries
//     call it); functions_timetz.go: time with time zone (its storage,
//     pg_timetz, casts, arithmetic, extract); cast.go: pg_cast, PostgreSQL's input rules (pgvalue's where
//     they are shared with pgwire); values.go: parameters into SQLite's
//     storage forms and back (translate/types.go has the conventions).
//   - errors.go: SQLite's errors as PostgreSQL's SQLSTATEs;
//     constraint_errors.go: a unique violation's constraint name and key
//     values, as PostgreSQL words them.
//
// Connections: exactly one SQLite write connection, used by ApplyBatch and
// lent to at most one interactive transaction at a time (WriteTx); a pool of
// query_only read connections, each with the catalog TEMP VIEWs; one
// in-memory helper connection for SQLite's own date functions.
//
// Goroutines: none of its own but a context.AfterFunc per statement with a
// deadline or cancellation (budget.go watch), which the statement stops
// before it gives its connection back. database/sql's pool and its idle
// reaper are closed by Close.
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
//   - Nothing here parses PostgreSQL: statements arrive translated
//     (translate.Stmt's SQL), and the translation's contracts with the
//     engine (catalog view names, the functions it emits, SQLite's date
//     functions) are translate's exported lists, checked by tests here.
package sqlengine
