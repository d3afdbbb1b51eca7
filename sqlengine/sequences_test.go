package sqlengine

import (
	"context"
	"fmt"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// applyPG translates one PostgreSQL statement against e's schema and
// applies it as e's next entry (its Post statements included), returning
// the first statement's result.
func applyPG(t *testing.T, e *Engine, q string) (*ExecResult, error) {
	t.Helper()
	ctx := context.Background()
	schema, err := e.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := translate.SQL(q, schema, translate.Options{})
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		t.Fatalf("%s: %d statements", q, len(stmts))
	}
	st := stmts[0]
	p := &Payload{Ctx: ExecContext{TimeMicros: 1, Seed: 1, TimeZone: "UTC"}, StepBudget: MaxStatementSteps,
		Ops: []Op{{Kind: OpExec, SQL: st.SQL, Args: st.Bound, Rows: st.Returning}}}
	for _, post := range st.Post {
		p.Ops = append(p.Ops, Op{Kind: OpExec, SQL: post})
	}
	b, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	res := e.ApplyBatch([]Command{{Index: e.AppliedIndex() + 1, Term: 1, Data: b}})[0].(*ApplyResult)
	for _, r := range res.Results {
		if r.Err != nil {
			return nil, r.Err
		}
	}
	return &res.Results[0], nil
}

// mustPG is applyPG that fails the test on an error, returning the rows
// rendered as "a|b" lines.
func mustPG(t *testing.T, e *Engine, q string) []string {
	t.Helper()
	r, err := applyPG(t, e, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return seqRows(r.Rows)
}

// queryPG translates a read against e's schema and runs it.
func queryPG(t *testing.T, e *Engine, q string) string {
	t.Helper()
	schema, err := e.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := translate.SQL(q, schema, translate.Options{})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := queryAll(e, stmts[0].SQL)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return fmt.Sprint(seqRows(rows))
}

func seqRows(rows [][]any) []string {
	var out []string
	for _, row := range rows {
		s := ""
		for i, v := range row {
			if i > 0 {
				s += "|"
			}
			s += fmt.Sprint(v)
		}
		out = append(out, s)
	}
	return out
}

// wantPGCode applies q and checks that it fails with code.
func wantPGCode(t *testing.T, e *Engine, q, code string) {
	t.Helper()
	_, err := applyPG(t, e, q)
	if got := pgerror.Code(MapError(err)); got != code {
		t.Errorf("%s: got %v (%s), want %s", q, err, got, code)
	}
}

func TestSequenceValues(t *testing.T) {
	e := newTestEngine(t)
	steps := []struct{ q, want string }{
		{"CREATE SEQUENCE s", ""},
		{"SELECT nextval('s'), nextval('public.s'), nextval('s'::regclass)", "1|2|3"},
		{"SELECT setval('s', 10)", "10"},
		{"SELECT nextval('s')", "11"},
		{"SELECT setval('s', 20, false)", "20"},
		{"SELECT nextval('s')", "20"},
		{"CREATE SEQUENCE down INCREMENT BY -2 MINVALUE -5 MAXVALUE 0 CYCLE", ""},
		{"SELECT nextval('down'), nextval('down'), nextval('down'), nextval('down')", "0|-2|-4|0"},
		{`CREATE SEQUENCE "MixedCase" AS smallint START 7`, ""},
		{`SELECT nextval('"MixedCase"')`, "7"},
		{"ALTER SEQUENCE s RESTART WITH 100 INCREMENT 10", ""},
		{"SELECT nextval('s'), nextval('s')", "100|110"},
		{"ALTER SEQUENCE s RENAME TO s2", ""},
		{"SELECT nextval('s2')", "120"},
	}
	for _, s := range steps {
		got := mustPG(t, e, s.q)
		if fmt.Sprint(got) != fmt.Sprint(sliceOf(s.want)) {
			t.Errorf("%s: got %v, want %q", s.q, got, s.want)
		}
	}
}

func sliceOf(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func TestSequenceErrors(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE m MAXVALUE 2")
	mustPG(t, e, "CREATE TABLE t (a int)")
	mustPG(t, e, "SELECT nextval('m'), nextval('m')")
	for _, c := range []struct{ q, code string }{
		{"SELECT nextval('m')", "2200H"},
		{"SELECT setval('m', 3)", pgerror.NumericValueOutOfRange},
		{"SELECT nextval('nope')", pgerror.UndefinedTable},
		{"SELECT nextval('t')", pgerror.WrongObjectType},
		{"CREATE SEQUENCE m", pgerror.DuplicateTable},
		{"CREATE SEQUENCE t", pgerror.DuplicateTable},
		{"CREATE SEQUENCE x INCREMENT 0", pgerror.InvalidParameterValue},
		{"CREATE SEQUENCE x MINVALUE 5 MAXVALUE 1", pgerror.InvalidParameterValue},
		{"CREATE SEQUENCE x AS smallint MAXVALUE 100000", pgerror.InvalidParameterValue},
		{"CREATE SEQUENCE x START 0", pgerror.InvalidParameterValue},
		{"CREATE SEQUENCE x CACHE 0", pgerror.InvalidParameterValue},
		{"ALTER SEQUENCE nope RESTART", pgerror.UndefinedTable},
		{"ALTER SEQUENCE m OWNED BY nope.a", pgerror.UndefinedTable},
		{"ALTER SEQUENCE m OWNED BY t.nope", pgerror.UndefinedColumn},
		{"DROP SEQUENCE nope", pgerror.UndefinedTable},
	} {
		wantPGCode(t, e, c.q, c.code)
	}
	mustPG(t, e, "CREATE SEQUENCE IF NOT EXISTS m")
	mustPG(t, e, "DROP SEQUENCE IF EXISTS nope, m")
	wantPGCode(t, e, "SELECT nextval('m')", pgerror.UndefinedTable)
}

// A statement that fails changes no sequence: its entry is rolled back on
// every node, and its client never saw the value.
func TestSequenceFailedStatementKeepsValue(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE s")
	mustPG(t, e, "CREATE TABLE t (a int UNIQUE)")
	mustPG(t, e, "INSERT INTO t VALUES (1)")
	wantPGCode(t, e, "INSERT INTO t VALUES (nextval('s') * 0 + 1)", pgerror.UniqueViolation)
	if got := mustPG(t, e, "SELECT nextval('s')"); fmt.Sprint(got) != "[1]" {
		t.Errorf("nextval after a failed statement = %v, want 1", got)
	}
}

func TestSerialColumns(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE TABLE t (id serial PRIMARY KEY, n bigserial, v text)")
	mustPG(t, e, "CREATE TABLE u (code text PRIMARY KEY, k smallserial, i int GENERATED BY DEFAULT AS IDENTITY (START WITH 50))")
	for _, s := range []struct{ q, want string }{
		{"INSERT INTO t (v) VALUES ('a') RETURNING id, n", "1|1"},
		// An explicit id does not advance the sequence, as in PostgreSQL.
		{"INSERT INTO t (id, v) VALUES (10, 'b') RETURNING id, n", "10|2"},
		{"INSERT INTO t (v) VALUES ('c') RETURNING id, n", "2|3"},
		{"SELECT setval('t_id_seq', 10)", "10"},
		{"INSERT INTO t (v) VALUES ('d') RETURNING id", "11"},
		{"INSERT INTO u (code) VALUES ('x') RETURNING k, i", "1|50"},
		{"TRUNCATE t RESTART IDENTITY", ""},
		{"INSERT INTO t (v) VALUES ('e') RETURNING id, n", "1|1"},
	} {
		if got := mustPG(t, e, s.q); fmt.Sprint(got) != fmt.Sprint(sliceOf(s.want)) {
			t.Errorf("%s: got %v, want %q", s.q, got, s.want)
		}
	}
	wantPGCode(t, e, "DROP SEQUENCE t_id_seq", pgerror.DependentObjectsStillExist)
	wantPGCode(t, e, "DROP SEQUENCE t_id_seq CASCADE", pgerror.FeatureNotSupported)
	wantPGCode(t, e, "ALTER SEQUENCE t_id_seq RENAME TO other", pgerror.FeatureNotSupported)

	rows, err := queryAll(e, `SELECT c.relname, c.relkind, pg_get_serial_sequence('t', 'id'), pg_get_serial_sequence('public.u', 'i')
		FROM pg_class c WHERE c.relkind = 'S' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	want := "[t_id_seq|S|public.t_id_seq|public.u_i_seq t_n_seq|S|public.t_id_seq|public.u_i_seq " +
		"u_i_seq|S|public.t_id_seq|public.u_i_seq u_k_seq|S|public.t_id_seq|public.u_i_seq]"
	if got := fmt.Sprint(seqRows(rows)); got != want {
		t.Errorf("pg_class sequences:\n got %s\nwant %s", got, want)
	}
	rows, err = queryAll(e, `SELECT d.deptype, a.attname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
		JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE c.relname IN ('u_i_seq', 't_id_seq') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(seqRows(rows)); got != "[a|id i|i]" {
		t.Errorf("pg_depend owned-by rows: %s", got)
	}
	rows, err = queryAll(e, `SELECT a.attname, a.attidentity, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE c.relname = 'u' ORDER BY a.attnum`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(seqRows(rows)); got != "[code||<nil> k||nextval('u_k_seq'::regclass) i|d|<nil>]" {
		t.Errorf("u's columns: %s", got)
	}

	mustPG(t, e, "DROP TABLE t")
	wantPGCode(t, e, "SELECT nextval('t_id_seq')", pgerror.UndefinedTable)
	wantPGCode(t, e, "SELECT nextval('t_n_seq')", pgerror.UndefinedTable)
}

func TestSequenceCatalogAndRead(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE s AS integer START WITH 5 INCREMENT BY 3 NO MINVALUE NO MAXVALUE CACHE 1")
	mustPG(t, e, "SELECT nextval('s')")
	schema, err := e.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ q, want string }{
		{"SELECT last_value, is_called FROM public.s", "[5|true]"},
		{"SELECT seqtypid, seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle FROM pg_catalog.pg_sequence", "[23|5|3|2147483647|1|1|false]"},
		{"SELECT sequencename, data_type, last_value FROM pg_sequences", "[s|integer|5]"},
		{"SELECT sequence_name, data_type, start_value, increment, cycle_option FROM information_schema.sequences", "[s|integer|5|3|NO]"},
	} {
		stmts, err := translate.SQL(c.q, schema, translate.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		rows, err := queryAll(e, stmts[0].SQL)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if got := fmt.Sprint(seqRows(rows)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.q, got, c.want)
		}
	}
	// A read connection has no sequence state to change: 25006, as a standby.
	if _, err := queryAll(e, "SELECT pg_nextval('s')"); pgerror.Code(MapError(err)) != pgerror.ReadOnlySQLTransaction {
		t.Errorf("nextval on a read connection: %v", err)
	}
}

// The values a transaction that does not commit handed out are spent by
// an "advance" entry: a sequence only moves forward.
func TestSequenceAdvance(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE s")
	mustPG(t, e, "CREATE SEQUENCE d INCREMENT -1")
	for _, q := range []string{
		translate.AdvanceSequencesSQL(map[string][2]int64{"s": {1, 3}, "d": {-4, -1}, "gone": {1, 1}}),
		translate.AdvanceSequencesSQL(map[string][2]int64{"s": {1, 2}}), // behind: no change
	} {
		if err := applyOne(t, e, q); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustPG(t, e, "SELECT nextval('s'), nextval('d')"); fmt.Sprint(got) != "[4|-5]" {
		t.Errorf("after advance: %v", got)
	}
}

// A transaction's read on the write connection is not logged: nextval
// there (through a view) would differ on replay, so it is refused.
func TestSequenceNotInTransactionRead(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE s")
	mustPG(t, e, "CREATE VIEW v AS SELECT nextval('s') AS n")
	ctx := context.Background()
	wt, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, TimeZone: "UTC"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer wt.Rollback()
	if _, err := wt.Query(ctx, "SELECT * FROM v", nil); pgerror.Code(MapError(err)) != pgerror.FeatureNotSupported {
		t.Errorf("nextval through a view in a transaction's read: %v", err)
	}
	r, err := wt.Exec(ctx, "SELECT pg_nextval('s')", nil, true)
	if err != nil || fmt.Sprint(seqRows(r.Rows)) != "[1]" || len(r.Seqs) != 1 || !r.Seqs[0].Nextval {
		t.Errorf("nextval in a transaction: %v, %+v", err, r)
	}
}

// Two nodes applying the same entries hand out the same values and end
// with equal checksums.
func TestSequenceDeterministic(t *testing.T) {
	a, b := newTestEngine(t), newTestEngine(t)
	qs := []string{
		"CREATE TABLE t (id serial PRIMARY KEY, v int)",
		"INSERT INTO t (v) SELECT x FROM generate_series(1, 50) AS g(x)",
		"CREATE SEQUENCE s INCREMENT 7 CYCLE MAXVALUE 30",
		"INSERT INTO t (id, v) VALUES (1000, nextval('s')), (1001, nextval('s')), (1002, nextval('s')), (1003, nextval('s')), (1004, nextval('s'))",
		"SELECT setval('t_id_seq', 2000)",
		"INSERT INTO t (v) VALUES (1) RETURNING id",
	}
	for _, q := range qs {
		ra, erra := applyPG(t, a, q)
		rb, errb := applyPG(t, b, q)
		if erra != nil || errb != nil {
			t.Fatalf("%s: %v / %v", q, erra, errb)
		}
		if fmt.Sprint(ra.Rows) != fmt.Sprint(rb.Rows) {
			t.Errorf("%s: %v vs %v", q, ra.Rows, rb.Rows)
		}
	}
	sa, _, err := a.Checksum(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sb, _, _ := b.Checksum(context.Background())
	if sa != sb {
		t.Errorf("checksums differ: %s vs %s", sa, sb)
	}
	if got := queryPG(t, a, "SELECT max(v) FILTER (WHERE id >= 1000), max(id) FROM t"); got != "[29|2001]" {
		t.Errorf("values: %v", got)
	}
}

// Renaming the owning table or column keeps the ownership: DROP TABLE
// still drops the sequence, pg_get_serial_sequence still finds it.
func TestSequenceOwnerRenamed(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE TABLE t (id serial PRIMARY KEY, v text)")
	mustPG(t, e, "ALTER TABLE t RENAME TO t2")
	mustPG(t, e, "ALTER TABLE t2 RENAME COLUMN id TO key")
	if got := queryPG(t, e, "SELECT pg_get_serial_sequence('t2', 'key')"); got != "[public.t_id_seq]" {
		t.Errorf("after renames: %s", got)
	}
	if got := mustPG(t, e, "INSERT INTO t2 (v) VALUES ('a') RETURNING key"); fmt.Sprint(got) != "[1]" {
		t.Errorf("insert after renames: %v", got)
	}
	mustPG(t, e, "DROP TABLE t2")
	wantPGCode(t, e, "SELECT nextval('t_id_seq')", pgerror.UndefinedTable)
}

// A GENERATED ALWAYS identity column takes no value but with OVERRIDING
// SYSTEM VALUE (428C9, as PostgreSQL).
func TestIdentityAlways(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)")
	wantPGCode(t, e, "INSERT INTO t (id, v) VALUES (5, 'a')", "428C9")
	wantPGCode(t, e, "INSERT INTO t VALUES (5, 'a')", "428C9")
	wantPGCode(t, e, "INSERT INTO t (id, v) OVERRIDING USER VALUE VALUES (5, 'a')", pgerror.FeatureNotSupported)
	if got := mustPG(t, e, "INSERT INTO t (id, v) OVERRIDING SYSTEM VALUE VALUES (5, 'a') RETURNING id"); fmt.Sprint(got) != "[5]" {
		t.Errorf("OVERRIDING SYSTEM VALUE: %v", got)
	}
	if got := mustPG(t, e, "INSERT INTO t (id, v) VALUES (DEFAULT, 'b') RETURNING id"); fmt.Sprint(got) != "[1]" {
		t.Errorf("DEFAULT: %v", got)
	}
}

func TestIdentityInformationSchema(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, b bigint GENERATED BY DEFAULT AS IDENTITY, s serial)")
	got := queryPG(t, e, `SELECT column_name, is_identity, identity_generation, column_default FROM information_schema.columns
		WHERE table_name = 't' ORDER BY ordinal_position`)
	if got != "[id|YES|ALWAYS|<nil> b|YES|BY DEFAULT|<nil> s|NO|<nil>|nextval('t_s_seq'::regclass)]" {
		t.Errorf("information_schema.columns: %s", got)
	}
}

// Django's sequence reset after loading rows with explicit ids.
func TestSequenceResetAfterLoad(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE TABLE t (id serial PRIMARY KEY, v text)")
	mustPG(t, e, "INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b'), (7, 'c')")
	if got := mustPG(t, e, `SELECT setval(pg_get_serial_sequence('"t"','id'), coalesce(max("id"), 1), max("id") IS NOT null) FROM "t"`); fmt.Sprint(got) != "[7]" {
		t.Errorf("reset: %v", got)
	}
	if got := mustPG(t, e, "INSERT INTO t (v) VALUES ('d') RETURNING id"); fmt.Sprint(got) != "[8]" {
		t.Errorf("insert after reset: %v", got)
	}
	mustPG(t, e, "TRUNCATE t")
	if got := mustPG(t, e, `SELECT setval(pg_get_serial_sequence('"t"','id'), coalesce(max("id"), 1), max("id") IS NOT null) FROM "t"`); fmt.Sprint(got) != "[1]" {
		t.Errorf("reset of an empty table: %v", got)
	}
	if got := mustPG(t, e, "INSERT INTO t (v) VALUES ('e') RETURNING id"); fmt.Sprint(got) != "[1]" {
		t.Errorf("insert after reset of an empty table: %v", got)
	}
}

// A table an older build made has an AUTOINCREMENT serial key: it keeps
// working, and TRUNCATE … RESTART IDENTITY resets its counter.
func TestSerialOfOlderBuilds(t *testing.T) {
	e := newTestEngine(t)
	if err := applyOne(t, e, `CREATE TABLE old ("id" INTEGER /*pg:int4*/ PRIMARY KEY AUTOINCREMENT, "v" TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ q, want string }{
		{"INSERT INTO old (v) VALUES ('a'), ('b') RETURNING id", "[1 2]"},
		{"DELETE FROM old RETURNING id", "[1 2]"},
		{"INSERT INTO old (v) VALUES ('c') RETURNING id", "[3]"},
		{"TRUNCATE old RESTART IDENTITY", "[]"},
		{"INSERT INTO old (v) VALUES ('d') RETURNING id", "[1]"},
	} {
		if got := mustPG(t, e, s.q); fmt.Sprint(got) != s.want {
			t.Errorf("%s: got %v, want %s", s.q, got, s.want)
		}
	}
	if got := queryPG(t, e, "SELECT pg_get_serial_sequence('old', 'id')"); got != "[<nil>]" {
		t.Errorf("pg_get_serial_sequence of an AUTOINCREMENT key: %s", got)
	}
}

// Django's get_sequences and SQLAlchemy's identity options find a column's
// sequence through pg_depend and regclass casts of computed names.
func TestSequenceReflection(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE TABLE t (id serial PRIMARY KEY, n int GENERATED BY DEFAULT AS IDENTITY (START 7))")
	got := queryPG(t, e, `SELECT s.relname as sequence_name, col.attname
		FROM pg_class s
		  JOIN pg_namespace sn ON sn.oid = s.relnamespace
		  JOIN pg_depend d ON d.refobjid = s.oid AND d.refclassid = 'pg_class'::regclass
		  JOIN pg_attrdef ad ON ad.oid = d.objid AND d.classid = 'pg_attrdef'::regclass
		  JOIN pg_attribute col ON col.attrelid = ad.adrelid AND col.attnum = ad.adnum
		  JOIN pg_class tbl ON tbl.oid = ad.adrelid
		WHERE s.relkind = 'S' AND d.deptype in ('a', 'n') AND pg_catalog.pg_table_is_visible(tbl.oid) AND tbl.relname = 't'`)
	if got != "[t_id_seq|id]" {
		t.Errorf("Django's get_sequences: %s", got)
	}
	got = queryPG(t, e, `SELECT a.attname, (SELECT s.seqstart FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON s.seqrelid = c."oid"
		WHERE c.relkind = 'S' AND a.attidentity != '' AND s.seqrelid = pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass::oid)
		FROM pg_catalog.pg_attribute a WHERE a.attrelid = 't'::regclass AND a.attnum > 0 ORDER BY a.attnum`)
	if got != "[id|<nil> n|7]" {
		t.Errorf("SQLAlchemy's identity options: %s", got)
	}
}

// currval and lastval inside a statement: the statement's own nextval
// first, then the value the server bound, else 55000.
func TestSequenceCurrvalInStatement(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE s")
	mustPG(t, e, "CREATE TABLE t (a bigint, b bigint)")
	if got := mustPG(t, e, "SELECT nextval('s'), currval('s'), lastval()"); fmt.Sprint(got) != "[1|1|1]" {
		t.Errorf("nextval then currval in one statement: %v", got)
	}
	wantPGCode(t, e, "INSERT INTO t VALUES (currval('s'), 0)", pgerror.ObjectNotInPrerequisiteState)
	wantPGCode(t, e, "INSERT INTO t VALUES (lastval(), 0)", pgerror.ObjectNotInPrerequisiteState)
	if err := applyOne(t, e, "INSERT INTO t VALUES (pg_currval('s', 41), pg_lastval(42))"); err != nil {
		t.Fatal(err)
	}
	if got := queryPG(t, e, "SELECT a, b FROM t"); got != "[41|42]" {
		t.Errorf("bound values: %s", got)
	}
}

// Steps near the ends of int8 neither overflow nor pass a bound.
func TestSequenceExtremeSteps(t *testing.T) {
	e := newTestEngine(t)
	mustPG(t, e, "CREATE SEQUENCE up MINVALUE -9223372036854775808 MAXVALUE -9223372036854775807 INCREMENT 9223372036854775807 START -9223372036854775808")
	mustPG(t, e, "CREATE SEQUENCE down INCREMENT -9223372036854775807 MINVALUE 9223372036854775806 MAXVALUE 9223372036854775807")
	if got := mustPG(t, e, "SELECT nextval('up'), nextval('down')"); fmt.Sprint(got) != "[-9223372036854775808|9223372036854775807]" {
		t.Errorf("first values: %v", got)
	}
	wantPGCode(t, e, "SELECT nextval('up')", "2200H")
	wantPGCode(t, e, "SELECT nextval('down')", "2200H")
}
