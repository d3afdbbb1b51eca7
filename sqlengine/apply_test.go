package sqlengine

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// entry builds one encoded Statements payload.
func entry(t testing.TB, micros int64, seed uint64, sqls ...string) []byte {
	t.Helper()
	return budgetedEntry(t, micros, seed, 0, sqls...)
}

// budgetedEntry is entry with a work budget per statement (0: none).
func budgetedEntry(t testing.TB, micros int64, seed, steps uint64, sqls ...string) []byte {
	t.Helper()
	p := &Payload{Ctx: ExecContext{TimeMicros: micros, Seed: seed, TimeZone: "UTC"}, StepBudget: steps}
	for _, s := range sqls {
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: s})
	}
	b, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dump renders every table's rows (rowids included) and sqlite_sequence.
func dump(t *testing.T, e *Engine) string {
	t.Helper()
	ctx := context.Background()
	var sb strings.Builder
	err := e.withInternalRead(ctx, func(c *sql.Conn) error {
		var tables []string
		rows, err := c.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '_pgraft%' ORDER BY name`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			tables = append(tables, name)
		}
		rows.Close()
		for _, tbl := range tables {
			q := fmt.Sprintf(`SELECT rowid, * FROM %q ORDER BY rowid`, tbl)
			if tbl == "sqlite_sequence" {
				q = `SELECT * FROM sqlite_sequence ORDER BY name`
			}
			fmt.Fprintf(&sb, "== %s\n", tbl)
			if err := dumpRows(ctx, c, q, &sb); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

func dumpRows(ctx context.Context, c *sql.Conn, q string, sb *strings.Builder) error {
	r, err := c.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer r.Close()
	cols, err := r.Columns()
	if err != nil {
		return err
	}
	for r.Next() {
		v := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range v {
			ptrs[i] = &v[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			return err
		}
		fmt.Fprintf(sb, "%#v\n", v)
	}
	return r.Err()
}

func determinismEntries(t *testing.T) []Command {
	base := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC).UnixMicro()
	datas := [][]byte{
		entry(t, base, 1,
			`CREATE TABLE t (id INTEGER /*pg:int8*/ PRIMARY KEY AUTOINCREMENT, ts TEXT DEFAULT CURRENT_TIMESTAMP,
				tz TIMESTAMPTZ DEFAULT (pg_now()), r FLOAT8, ri INT8, u UUID DEFAULT (gen_random_uuid()), f TEXT, b BYTEA_BLOB, d TEXT)`,
			`CREATE TABLE parent (id INTEGER PRIMARY KEY)`,
			`CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`),
		entry(t, base+1000, 2, `INSERT INTO t (r, ri, f, b, d) VALUES
			(pg_random(), random(), strftime('%f','now'), randomblob(8), datetime('now', '+1 day')),
			(pg_random(), random(), strftime('%f'), randomblob(8), date())`),
		entry(t, base+2000, 3, `INSERT INTO t (r) SELECT pg_random() FROM (VALUES (1), (2), (3))`),
		entry(t, base+3000, 4, `INSERT INTO child VALUES (1, 99)`), // deferred FK violation: fails alone
		entry(t, base+4000, 5, `INSERT INTO parent VALUES (7)`, `INSERT INTO child VALUES (2, 7)`),
		entry(t, base+5000, 6, `DELETE FROM t WHERE id = 2`, `INSERT INTO t (f) VALUES (lower(hex(randomblob(4))))`),
		entry(t, base+6000, 7, `INSERT INTO t (id) VALUES (1)`), // unique violation: fails alone
		entry(t, base+7000, 8, `UPDATE t SET f = 'x' || gen_random_uuid() WHERE id = 3`),
	}
	cmds := make([]Command, len(datas))
	for i, d := range datas {
		cmds[i] = Command{Index: uint64(i + 10), Term: 1, Data: d}
	}
	return cmds
}

func TestApplyIsDeterministicAcrossBatchSplits(t *testing.T) {
	cmds := determinismEntries(t)
	var dumps []string
	var first []any
	for _, split := range [][]int{{len(cmds)}, {1, 1, 1, 1, 1, 1, 1, 1}, {3, 5}, {2, 2, 4}} {
		e := newTestEngine(t)
		i := 0
		for _, n := range split {
			out := e.ApplyBatch(cmds[i : i+n])
			if first == nil {
				first = out
			}
			i += n
		}
		if got := e.AppliedIndex(); got != cmds[len(cmds)-1].Index {
			t.Fatalf("AppliedIndex = %d, want %d", got, cmds[len(cmds)-1].Index)
		}
		dumps = append(dumps, dump(t, e))
	}
	for i := 1; i < len(dumps); i++ {
		if dumps[i] != dumps[0] {
			t.Fatalf("split %d differs:\n%s\nvs\n%s", i, dumps[i], dumps[0])
		}
	}
	d := dumps[0]
	for _, want := range []string{`"2026-03-04 05:06:07"`, `"2026-03-04 05:06:07.124456"`, `"07.124"`, `"2026-03-05 05:06:07"`} {
		if !strings.Contains(d, want) {
			t.Errorf("dump lacks %s:\n%s", want, d)
		}
	}
	if r := first[3].(*ApplyResult); pgerror.Code(r.Results[0].Err) != pgerror.ForeignKeyViolation {
		t.Errorf("deferred FK entry: %+v, want 23503", r.Results)
	}
	if r := first[6].(*ApplyResult); pgerror.Code(r.Results[0].Err) != pgerror.UniqueViolation {
		t.Errorf("duplicate id entry: %+v, want 23505", r.Results)
	}
	if strings.Contains(d, "int64(99)") {
		t.Errorf("the failed entry left a row behind:\n%s", d)
	}
}

func TestRandomValuesDifferWithinAStatement(t *testing.T) {
	e := newTestEngine(t)
	e.ApplyBatch(determinismEntries(t)[:3])
	rows, err := e.Query(context.Background(), `SELECT count(DISTINCT r), count(r), count(DISTINCT u) FROM t`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rows.Next()
	v, _ := rows.Values()
	if v[0] != v[1] || v[1] != int64(5) || v[2] != int64(5) {
		t.Fatalf("distinct randoms/uuids = %v, want 5 of 5", v)
	}
}

func TestApplySkipsAppliedEntriesAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	e, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	cmds := determinismEntries(t)
	e.ApplyBatch(cmds[:3])
	before := dump(t, e)
	e.Close()
	e, err = Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.AppliedIndex() != cmds[2].Index {
		t.Fatalf("AppliedIndex after reopen = %d", e.AppliedIndex())
	}
	out := e.ApplyBatch(cmds[:3]) // replayed by Raft after a crash
	for i, o := range out {
		if o != nil {
			t.Errorf("entry %d applied twice", i)
		}
	}
	if after := dump(t, e); after != before {
		t.Fatalf("replay changed data:\n%s\nvs\n%s", after, before)
	}
}
