package sqlengine

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// sandboxEngine is an engine with a user table of each kind, applied
// through the log like a client's DDL.
func sandboxEngine(t *testing.T, readConns int) *Engine {
	t.Helper()
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), ReadConns: readConns})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	for _, q := range []string{
		`CREATE TABLE div (a TEXT, b TEXT)`,
		`CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)`,
		`INSERT INTO seq (v) VALUES ('x')`,
	} {
		if err := applyOne(t, e, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return e
}

// applyOne applies q as the engine's next log entry and returns its
// statement's error.
func applyOne(t *testing.T, e *Engine, q string, args ...any) error {
	t.Helper()
	p := &Payload{Ctx: ExecContext{TimeMicros: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro(), Seed: 1, TimeZone: "UTC"},
		Ops: []Op{{Kind: OpExec, SQL: q, Args: args}}}
	b, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	res := e.ApplyBatch([]Command{{Index: e.AppliedIndex() + 1, Term: 1, Data: b}})[0].(*ApplyResult)
	if res.Err != nil {
		return res.Err
	}
	return res.Results[0].Err
}

// queryAll runs a read through Engine.Query and drains it.
func queryAll(e *Engine, q string) ([][]any, error) {
	rows, err := e.Query(context.Background(), q, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return nil, err
		}
		out = append(out, append([]any(nil), v...))
	}
	return out, rows.Err()
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := pgerror.Code(err); got != code {
		t.Fatalf("%s: error %v (SQLSTATE %q), want SQLSTATE %s", what, err, got, code)
	}
}

// Reads a client may not make, on a read connection (Engine.Query) and
// when the statement is described (Engine.Describe, extended protocol).
func TestAuthorizerRefusesReads(t *testing.T) {
	e := sandboxEngine(t, 2)
	tests := []struct{ name, sql, code, msg string }{
		{"sqlite_master", `SELECT * FROM sqlite_master`, pgerror.UndefinedTable, `relation "sqlite_master"`},
		{"sqlite_schema", `SELECT name, sql FROM sqlite_schema`, pgerror.UndefinedTable, "sqlite_master"},
		{"sqlite_temp_master", `SELECT name FROM sqlite_temp_master`, pgerror.UndefinedTable, "sqlite_temp_master"},
		{"sqlite_sequence", `SELECT * FROM sqlite_sequence`, pgerror.UndefinedTable, "sqlite_sequence"},
		{"pgraft meta", `SELECT * FROM _pgraft_meta`, pgerror.UndefinedTable, `relation "_pgraft_meta"`},
		{"meta in any case", `SELECT * FROM _PGRAFT_META`, pgerror.UndefinedTable, "_pgraft_meta"},
		{"meta in a subquery", `SELECT (SELECT value FROM _pgraft_meta LIMIT 1)`, pgerror.UndefinedTable, "_pgraft_meta"},
		{"node's file path", `SELECT file FROM pragma_database_list WHERE name = 'main'`, pgerror.UndefinedTable, "pragma_database_list"},
		{"page count", `SELECT * FROM pragma_page_count`, pgerror.UndefinedTable, "pragma_page_count"},
		{"freelist count", `SELECT * FROM pragma_freelist_count`, pgerror.UndefinedTable, "pragma_freelist_count"},
		{"data version", `SELECT * FROM pragma_data_version`, pgerror.UndefinedTable, "pragma_data_version"},
		{"function list", `SELECT name FROM pragma_function_list`, pgerror.UndefinedTable, "pragma_function_list"},
		{"table info", `SELECT name FROM pragma_table_info('div')`, pgerror.UndefinedTable, "pragma_table_info"},
		{"CTE named like a catalog view", `WITH pg_class AS (SELECT name FROM sqlite_master) SELECT * FROM pg_class`,
			pgerror.UndefinedTable, "sqlite_master"},
		{"catalog view internals", `SELECT * FROM _pgraft_rel`, pgerror.UndefinedTable, "_pgraft_rel"},
		{"sqlite_version", `SELECT sqlite_version()`, pgerror.UndefinedFunction, "function sqlite_version does not exist"},
		{"sqlite_source_id", `SELECT sqlite_source_id()`, pgerror.UndefinedFunction, "sqlite_source_id"},
		{"compile options", `SELECT sqlite_compileoption_get(0)`, pgerror.UndefinedFunction, "sqlite_compileoption_get"},
		{"compile option used", `SELECT sqlite_compileoption_used('THREADSAFE')`, pgerror.UndefinedFunction, "sqlite_compileoption_used"},
		{"changes", `SELECT changes()`, pgerror.UndefinedFunction, "changes"},
		{"total_changes", `SELECT total_changes()`, pgerror.UndefinedFunction, "total_changes"},
		{"last_insert_rowid", `SELECT last_insert_rowid()`, pgerror.UndefinedFunction, "last_insert_rowid"},
		{"sqlite_offset", `SELECT sqlite_offset(a) FROM div`, pgerror.UndefinedFunction, "sqlite_offset"},
		{"load_extension", `SELECT load_extension('x')`, pgerror.UndefinedFunction, "load_extension"},
		{"sqlite_log", `SELECT sqlite_log(1, 'x')`, pgerror.UndefinedFunction, "sqlite_log"},
		{"timediff reads the clock", `SELECT timediff('now', '2000-01-01')`, pgerror.UndefinedFunction, "timediff"},
		{"internal ALTER helper", `SELECT sqlite_rename_test('main', 'x', 'y', 0, 0, 0, 0)`, pgerror.UndefinedFunction, "sqlite_rename_test"},
		{"function in any case", `SELECT SQLITE_VERSION()`, pgerror.UndefinedFunction, "sqlite_version"},
		{"DDL on a read connection", `CREATE TABLE x (a)`, pgerror.InsufficientPrivilege, "permission denied"},
		{"PRAGMA", `PRAGMA journal_mode`, pgerror.InsufficientPrivilege, "permission denied"},
		{"ATTACH", `ATTACH DATABASE ':memory:' AS x`, pgerror.InsufficientPrivilege, "permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := queryAll(e, tc.sql)
			wantCode(t, "Query", err, tc.code)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Query: %q, want it to name %q", err.Error(), tc.msg)
			}
			_, err = e.Describe(context.Background(), tc.sql)
			wantCode(t, "Describe", err, tc.code)
		})
	}
}

// Statements a client may not run, applied from the log as every node
// applies them: each fails alone, the same way everywhere, and apply goes on.
func TestAuthorizerRefusesWrites(t *testing.T) {
	e := sandboxEngine(t, 2)
	if err := applyOne(t, e, `ANALYZE`); err != nil { // creates sqlite_stat1
		t.Fatalf("ANALYZE: %v", err)
	}
	tests := []struct {
		name, sql string
		args      []any
		code, msg string
	}{
		{"drop meta", `DROP TABLE _pgraft_meta`, nil, pgerror.UndefinedTable, `relation "_pgraft_meta" does not exist`},
		{"update meta", `UPDATE _pgraft_meta SET value = 0`, nil, pgerror.UndefinedTable, "_pgraft_meta"},
		{"delete meta", `DELETE FROM _pgraft_meta`, nil, pgerror.UndefinedTable, "_pgraft_meta"},
		{"insert meta", `INSERT INTO _pgraft_meta VALUES ('x', 1)`, nil, pgerror.UndefinedTable, "_pgraft_meta"},
		{"alter meta", `ALTER TABLE _pgraft_meta ADD COLUMN x TEXT`, nil, pgerror.UndefinedTable, "_pgraft_meta"},
		{"rename meta", `ALTER TABLE _pgraft_meta RENAME TO m`, nil, pgerror.UndefinedTable, "_pgraft_meta"},
		{"index on meta", `CREATE INDEX m_value ON _pgraft_meta (value)`, nil, pgerror.UndefinedTable, "_pgraft_meta"},
		{"node's file path", `INSERT INTO div SELECT 'x', file FROM pragma_database_list WHERE name = 'main'`, nil,
			pgerror.UndefinedTable, "pragma_database_list"},
		{"page count", `INSERT INTO div SELECT 'x', page_count FROM pragma_page_count`, nil, pgerror.UndefinedTable, "pragma_page_count"},
		{"read the schema", `INSERT INTO div SELECT name, sql FROM sqlite_master`, nil, pgerror.UndefinedTable, "sqlite_master"},
		{"write sqlite_sequence", `UPDATE sqlite_sequence SET seq = 100`, nil, pgerror.UndefinedTable, "sqlite_sequence"},
		{"write sqlite_stat1", `DELETE FROM sqlite_stat1`, nil, pgerror.UndefinedTable, "sqlite_stat1"},
		{"write the schema", `UPDATE sqlite_master SET sql = sql`, nil, pgerror.SyntaxErrorOrAccessRule, "may not be modified"},
		{"CREATE TABLE AS reads the schema", `CREATE TABLE copy AS SELECT name FROM sqlite_master`, nil,
			pgerror.UndefinedTable, "sqlite_master"},
		{"sqlite_version in a write", `INSERT INTO div VALUES (sqlite_version(), 'x')`, nil, pgerror.UndefinedFunction, "sqlite_version"},
		{"sqlite_source_id default", `CREATE TABLE d (a TEXT DEFAULT (sqlite_source_id()))`, nil, pgerror.UndefinedFunction, "sqlite_source_id"},
		{"utc modifier", `INSERT INTO div VALUES (datetime('2024-06-01 12:00:00', 'utc'), 'x')`, nil,
			pgerror.FeatureNotSupported, "'utc' modifier"},
		{"utc modifier bound", `INSERT INTO div VALUES (datetime('2024-06-01 12:00:00', ?1), 'x')`, []any{"UTC"},
			pgerror.FeatureNotSupported, "'utc' modifier"},
		{"localtime modifier", `INSERT INTO div VALUES (strftime('%H', 'now', 'localtime'), 'x')`, nil,
			pgerror.FeatureNotSupported, "'localtime' modifier"},
		{"reserved table name", `CREATE TABLE _pgraft_x (a)`, nil, pgerror.InsufficientPrivilege, `permission denied to create "_pgraft_x"`},
		{"reserved pragma name", `CREATE TABLE pragma_x (a)`, nil, pgerror.InsufficientPrivilege, "pragma_x"},
		{"reserved view name", `CREATE VIEW _pgraft_rel AS SELECT 1`, nil, pgerror.InsufficientPrivilege, "_pgraft_rel"},
		{"reserved index name", `CREATE INDEX _pgraft_i ON div (a)`, nil, pgerror.InsufficientPrivilege, "_pgraft_i"},
		{"temporary table", `CREATE TEMP TABLE tt (a)`, nil, pgerror.InsufficientPrivilege, "temporary"},
		{"trigger", `CREATE TRIGGER tr AFTER INSERT ON div BEGIN DELETE FROM div; END`, nil, pgerror.InsufficientPrivilege, "triggers"},
		{"virtual table", `CREATE VIRTUAL TABLE r USING rtree(id, a, b)`, nil, pgerror.InsufficientPrivilege, "virtual tables"},
		{"ATTACH", `ATTACH DATABASE ':memory:' AS x`, nil, pgerror.InsufficientPrivilege, "ATTACH"},
		{"DETACH", `DETACH DATABASE temp`, nil, pgerror.InsufficientPrivilege, "DETACH"},
		{"PRAGMA", `PRAGMA user_version = 7`, nil, pgerror.InsufficientPrivilege, "PRAGMA user_version"},
		{"writable_schema", `PRAGMA writable_schema = ON`, nil, pgerror.InsufficientPrivilege, "writable_schema"},
		{"schema pragma as a statement", `PRAGMA table_info(div)`, nil, "", ""}, // read-only, needed by pragma_* inside the catalog views
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.AppliedIndex()
			err := applyOne(t, e, tc.sql, tc.args...)
			wantCode(t, tc.sql, err, tc.code)
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q, want it to name %q", err.Error(), tc.msg)
			}
			if e.AppliedIndex() != before+1 {
				t.Fatalf("applied index %d after entry %d", e.AppliedIndex(), before+1)
			}
		})
	}
	rows, err := queryAll(e, `SELECT count(*) FROM div`)
	if err != nil || len(rows) != 1 || rows[0][0] != int64(0) {
		t.Fatalf("div after refused writes: %v %v, want no rows", rows, err)
	}
	// _pgraft_meta is intact: the engine reopens at the same index.
	index, path := e.AppliedIndex(), e.cfg.Path
	e.Close()
	e2, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if e2.AppliedIndex() != index {
		t.Fatalf("reopened at index %d, want %d", e2.AppliedIndex(), index)
	}
}

// The same refusals inside an interactive write transaction: the statement
// fails when it runs speculatively and is never logged.
func TestAuthorizerRefusesInWriteTx(t *testing.T) {
	e := sandboxEngine(t, 2)
	ctx := context.Background()
	tx, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, Seed: 1, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = tx.Exec(ctx, `UPDATE _pgraft_meta SET value = 0`, nil, false)
	wantCode(t, "Exec", err, pgerror.UndefinedTable)
	_, err = tx.Query(ctx, `SELECT * FROM sqlite_master`, nil)
	wantCode(t, "Query", err, pgerror.UndefinedTable)
	_, err = tx.Describe(context.Background(), `DROP TABLE _pgraft_meta`)
	wantCode(t, "Describe", err, pgerror.UndefinedTable)
	_, err = tx.Exec(ctx, `INSERT INTO div VALUES (sqlite_source_id(), 'x')`, nil, false)
	wantCode(t, "Exec", err, pgerror.UndefinedFunction)
	if _, err := tx.Exec(ctx, `INSERT INTO div VALUES ('a', 'b')`, nil, false); err != nil {
		t.Fatalf("a client's own write: %v", err)
	}
	p, err := tx.Finish()
	if err != nil || p == nil || len(p.Ops) != 1 {
		t.Fatalf("Finish: %+v %v, want the one accepted statement", p, err)
	}
}

// What clients do every day keeps working, DDL included: SQLite's own
// bookkeeping for it (sqlite_master, sqlite_sequence, sqlite_stat1, ALTER
// TABLE's helpers) is not refused.
func TestAuthorizerAllowsClientStatements(t *testing.T) {
	e := sandboxEngine(t, 2)
	writes := []string{
		`CREATE TABLE t (id INTEGER /*pg:int4*/ PRIMARY KEY AUTOINCREMENT, k TEXT UNIQUE, v INT4 CHECK (v > length('x')),
			j TEXT DEFAULT ('{}'), at TEXT DEFAULT CURRENT_TIMESTAMP)`,
		`CREATE INDEX t_v ON t (v) WHERE v > 2`,
		`CREATE INDEX t_lower_k ON t (lower(k))`,
		`INSERT INTO t (k, v, j) VALUES ('a', 3, '{"x": [1, 2]}'), ('b', 4, json_object('y', 'z'))`,
		`INSERT INTO t (k, v) SELECT 'c' || value, 5 FROM json_each('[1, 2]')`,
		`UPDATE t SET v = v + 1 WHERE k LIKE 'a%' OR k GLOB 'b*'`,
		`INSERT INTO t (k, v) VALUES ('d', 9) ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING id`,
		`ANALYZE`,
		`ANALYZE t`,
		`ALTER TABLE t ADD COLUMN extra TEXT DEFAULT ('e')`,
		`ALTER TABLE t RENAME COLUMN extra TO more`,
		`ALTER TABLE t DROP COLUMN more`,
		`ALTER TABLE t RENAME TO t2`,
		`CREATE VIEW v AS SELECT k, v FROM t2 WHERE v > 3`,
		`INSERT INTO div SELECT k, CAST(v AS TEXT) FROM v`,
		`INSERT INTO div VALUES (datetime('2024-06-01 12:00:00', '+1 day'), strftime('%Y', 'now'))`,
		`DROP VIEW v`,
		`DROP INDEX t_v`,
		`DELETE FROM t2 WHERE id = 1`,
		`DROP TABLE t2`,
	}
	for _, q := range writes {
		if err := applyOne(t, e, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	reads := []string{
		`SELECT a, b FROM div ORDER BY 1`,
		`SELECT iif(1, 'a', 'b'), coalesce(NULL, 1), ifnull(NULL, 2), nullif(1, 1), abs(-1), round(1.25, 1),
			printf('%05d', 42), hex('a'), unhex('61'), quote('x'), typeof(1), instr('abc', 'b'), substr('abc', 2),
			replace('a', 'a', 'b'), trim(' a '), upper('a'), char(65), unicode('A'), zeroblob(1), concat('a', 1),
			concat_ws(',', 'a', 'b'), format('%s', 'a'), likely(1), unlikely(0), likelihood(1, 0.5), sign(-2)`,
		`SELECT '{"a": 1}' ->> 'a', '{"a": 1}' -> 'a', json_extract('{"a": 1}', '$.a'), json_array(1, 2), json_valid('{}')`,
		`SELECT count(*), sum(1), total(1), avg(1), min(1), max(1), group_concat('a'), string_agg('a', ','),
			json_group_array(1), json_group_object('k', 1) FROM div`,
		`SELECT row_number() OVER (), rank() OVER (ORDER BY a), lag(a) OVER (ORDER BY a) FROM div`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT sum(i) FROM n`,
		`SELECT key, value FROM json_each('[1, 2]')`,
		`SELECT date('now'), datetime('now', 'localtime'), julianday('2024-01-01'), unixepoch('2024-01-01'),
			random(), randomblob(2), current_timestamp`,
		`SELECT pg_cast('1', '', 'int4', -1), pg_now(), pg_random(), gen_random_uuid()`,
		`SELECT id, v FROM seq`,
	}
	for _, q := range reads {
		if _, err := queryAll(e, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// A psql catalog query runs on an engine's read connection: the views'
// bodies read sqlite_schema and pragma_table_xinfo, which the client cannot.
func TestAuthorizerAllowsCatalogViews(t *testing.T) {
	e := sandboxEngine(t, 2)
	rows, err := queryAll(e, `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE c.relkind = 'r' AND a.attnum > 0 ORDER BY c.relname, a.attnum`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r[0].(string)+"."+r[1].(string))
	}
	if want := "div.a div.b seq.id seq.v"; strings.Join(got, " ") != want {
		t.Fatalf("pg_class/pg_attribute: %v, want %s (internal tables hidden)", got, want)
	}
	if _, err := queryAll(e, `SELECT relname, relnatts, relhastriggers FROM pg_class`); err != nil {
		t.Fatal(err)
	}
	if _, err := queryAll(e, `SELECT table_name, column_name FROM information_schema_columns`); err != nil {
		t.Fatal(err)
	}
	if _, err := queryAll(e, `SELECT viewname, definition FROM pg_views`); err != nil {
		t.Fatal(err)
	}
}

// pgraft's own statements keep their access: schema loading, checksum,
// snapshot and restore, reopening.
func TestAuthorizerAllowsInternalStatements(t *testing.T) {
	e := sandboxEngine(t, 2)
	ctx := context.Background()
	if err := applyOne(t, e, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	s, err := e.Schema(ctx)
	if err != nil || s.Table("seq") == nil || s.Table("_pgraft_meta") != nil {
		t.Fatalf("Schema: %v, %v", s, err)
	}
	sum, index, err := e.Checksum(ctx)
	if err != nil || index != e.AppliedIndex() {
		t.Fatalf("Checksum: %q %d %v, want index %d", sum, index, err, e.AppliedIndex())
	}
	tx, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, Seed: 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE in_tx (a TEXT)`, nil, false); err != nil {
		t.Fatal(err)
	}
	if ts, ok, err := tx.Schema(ctx); err != nil || !ok || ts.Table("in_tx") == nil {
		t.Fatalf("WriteTx.Schema: %v %v %v", ts, ok, err)
	}
	tx.Rollback()
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	w := &buf
	if err := snap.Persist(writerFunc(func(b []byte) (int, error) { return w.WriteString(string(b)) })); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	e2 := newTestEngine(t)
	if err := e2.Restore(strings.NewReader(buf.String())); err != nil {
		t.Fatal(err)
	}
	sum2, index2, err := e2.Checksum(ctx)
	if err != nil || sum2 != sum || index2 != index {
		t.Fatalf("restored: %s %d %v, want %s %d", sum2, index2, err, sum, index)
	}
	// Snapshot's connection went back to the pool as a client's.
	for i := 0; i < 4; i++ {
		_, err := queryAll(e, `SELECT * FROM _pgraft_meta`)
		wantCode(t, "after Snapshot", err, pgerror.UndefinedTable)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// go-sqlite3 caches prepared statements by their text, and SQLite consults
// the authorizer only when it prepares one: a statement prepared with
// internal access must not be reused by a client's identical text, and a
// client's refusal must not stick to pgraft's own statement.
func TestAuthorizerStatementCacheKeepsAccessApart(t *testing.T) {
	e := sandboxEngine(t, 1) // one read connection: every statement meets the same cache
	ctx := context.Background()
	t.Run("read connection", func(t *testing.T) {
		const q = `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`
		internal := func() error {
			return e.withInternalRead(ctx, func(c *sql.Conn) error {
				rows, err := c.QueryContext(ctx, q)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			})
		}
		for i := 0; i < 3; i++ {
			if err := internal(); err != nil {
				t.Fatalf("internal read %d: %v", i, err)
			}
			_, err := queryAll(e, q)
			wantCode(t, "the same text from a client", err, pgerror.UndefinedTable)
		}
	})
	t.Run("write connection", func(t *testing.T) {
		// A statement of the kind WriteTx.Schema runs, then the same text
		// in a client's entry, then pgraft's again. With an argument: a
		// statement without one skips go-sqlite3's cache when executed.
		const q = `UPDATE _pgraft_meta SET value = value WHERE key = ?1`
		internal := func() error {
			e.wmu.Lock()
			defer e.wmu.Unlock()
			return e.withInternal(func() error {
				_, err := e.wconn.ExecContext(ctx, q, "none")
				return err
			})
		}
		for i := 0; i < 3; i++ {
			if err := internal(); err != nil {
				t.Fatalf("internal write %d: %v", i, err)
			}
			wantCode(t, "the same write from a client", applyOne(t, e, q, "none"), pgerror.UndefinedTable)
		}
	})
}

// The policy itself, one request at a time.
func TestAuthorize(t *testing.T) {
	const trusted = "_pgraft_0123456789abcdef_"
	type step struct {
		r    authRequest
		ok   bool
		kind refusalKind
	}
	read := func(table string) authRequest { return authRequest{action: authRead, arg1: table, arg2: "c"} }
	tests := []struct {
		name string
		conn authConn
		seq  []step
	}{
		{"user table", authConn{}, []step{{read("div"), true, refusedNone}}},
		{"schema table", authConn{}, []step{{read("sqlite_master"), false, refusedRelation}}},
		{"pragma function", authConn{}, []step{{read("pragma_database_list"), false, refusedRelation}}},
		{"meta", authConn{}, []step{{authRequest{action: authUpdate, arg1: "_pgraft_meta", arg2: "value"}, false, refusedRelation}}},
		{"internal mode allows and tells", authConn{internal: true}, []step{{read("sqlite_master"), true, refusedRelation}}},
		{"a catalog view's body", authConn{trusted: trusted},
			[]step{{authRequest{action: authRead, arg1: "sqlite_master", arg2: "sql", inner: trusted + "pg_class"}, true, refusedNone}}},
		{"a view or CTE named like one", authConn{trusted: trusted},
			[]step{{authRequest{action: authRead, arg1: "sqlite_master", arg2: "sql", inner: "pg_class"}, false, refusedRelation}}},
		{"the body read through its public view", authConn{trusted: trusted},
			[]step{{authRequest{action: authRead, arg1: trusted + "pg_class", arg2: "oid", inner: "pg_class"}, true, refusedNone}}},
		{"no trusted prefix on the write connection", authConn{allowDDL: true},
			[]step{{authRequest{action: authRead, arg1: "sqlite_master", arg2: "sql", inner: ""}, false, refusedRelation}}},
		{"CREATE TABLE bookkeeping", authConn{allowDDL: true}, []step{
			{authRequest{action: authInsert, arg1: "sqlite_master"}, true, refusedNone},
			{authRequest{action: authCreateTable, arg1: "t"}, true, refusedNone},
			{authRequest{action: authUpdate, arg1: "sqlite_master", arg2: "sql"}, true, refusedNone},
			{read("sqlite_master"), true, refusedNone},
			{authRequest{action: authCreateTable, arg1: "sqlite_sequence"}, true, refusedNone},
		}},
		{"CREATE TABLE AS: the query is a client's", authConn{allowDDL: true}, []step{
			{authRequest{action: authCreateTable, arg1: "t"}, true, refusedNone},
			{authRequest{action: authSelect}, true, refusedNone},
			{read("sqlite_master"), false, refusedRelation},
		}},
		{"ALTER TABLE runs queries of its own", authConn{allowDDL: true}, []step{
			{authRequest{action: authAlterTable, arg1: "main", arg2: "t"}, true, refusedNone},
			{authRequest{action: authSelect}, true, refusedNone},
			{authRequest{action: authFunction, arg2: "sqlite_rename_test"}, true, refusedNone},
			{read("sqlite_master"), true, refusedNone},
		}},
		{"ALTER helpers outside DDL", authConn{allowDDL: true},
			[]step{{authRequest{action: authFunction, arg2: "sqlite_rename_test"}, false, refusedFunction}}},
		{"DDL on a read connection", authConn{}, []step{{authRequest{action: authCreateTable, arg1: "t"}, false, refusedPermission}}},
		{"ANALYZE visits _pgraft_meta", authConn{allowDDL: true},
			[]step{{authRequest{action: authAnalyze, arg1: "_pgraft_meta"}, true, refusedNone}}},
		{"drop meta", authConn{allowDDL: true}, []step{{authRequest{action: authDropTable, arg1: "_pgraft_meta"}, false, refusedRelation}}},
		{"create reserved", authConn{allowDDL: true}, []step{{authRequest{action: authCreateView, arg1: "_pgraft_v"}, false, refusedReserved}}},
		{"index on meta", authConn{allowDDL: true},
			[]step{{authRequest{action: authCreateIndex, arg1: "i", arg2: "_pgraft_meta"}, false, refusedRelation}}},
		{"allowed function", authConn{}, []step{{authRequest{action: authFunction, arg2: "json_extract"}, true, refusedNone}}},
		{"refused function", authConn{}, []step{{authRequest{action: authFunction, arg2: "sqlite_version"}, false, refusedFunction}}},
		{"schema pragma", authConn{}, []step{{authRequest{action: authPragma, arg1: "table_xinfo", arg2: "div"}, true, refusedNone}}},
		{"other pragma", authConn{}, []step{{authRequest{action: authPragma, arg1: "journal_mode"}, false, refusedPermission}}},
		{"attach", authConn{allowDDL: true}, []step{{authRequest{action: authAttach, arg1: "x.db"}, false, refusedPermission}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conn
			for i, s := range tc.seq {
				ok, ref := c.authorize(s.r)
				if ok != s.ok || ref.kind != s.kind {
					t.Fatalf("step %d %+v: ok %v refusal %d, want ok %v refusal %d", i, s.r, ok, ref.kind, s.ok, s.kind)
				}
			}
		})
	}
}

// Every function translation can emit and every function pgraft registers
// is allowed; the node- and build-dependent ones are not.
func TestAuthorizerFunctionAllowlist(t *testing.T) {
	// Targets no connection registers: SQLite answers "no such function"
	// (42883) before it asks the authorizer, and the server answers the
	// advisory-lock functions itself (Stmt.Advisory).
	unregistered := map[string]bool{"pg_to_char": true, "pg_to_date": true, "pg_to_timestamp": true, "pg_make_date": true,
		"pg_age": true, "pg_advisory_lock": true, "pg_advisory_unlock": true, "pg_try_advisory_lock": true,
		"pg_advisory_unlock_all": true, "pg_advisory_xact_lock": true, "pg_try_advisory_xact_lock": true}
	for _, name := range translate.EmittedFunctions() {
		if !clientFunctions[name] && !unregistered[name] {
			t.Errorf("translation calls %s(), which the authorizer refuses", name)
		}
	}
	for _, name := range registeredFunctionNames() {
		if !clientFunctions[name] && !refusedStandIns[name] {
			t.Errorf("registered function %s is refused", name)
		}
	}
	for _, name := range []string{"sqlite_version", "sqlite_source_id", "sqlite_compileoption_get",
		"sqlite_compileoption_used", "changes", "total_changes", "last_insert_rowid", "sqlite_offset",
		"load_extension", "sqlite_log", "timediff", "datedebug", "exp", "ln", "log", "log10", "log2", "pow",
		"power", "sin", "cos", "tan", "atan2", "fts5_source_id", "rtreecheck", "match", "sqlite_rename_table",
		"sqlite_drop_column", "json_parse", "subtype", "affinity"} {
		if clientFunctions[name] {
			t.Errorf("%s is allowed", name)
		}
	}
}
