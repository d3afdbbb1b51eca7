package translate

import (
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// seqSchema is testSchema with a sequence and a table whose serial key is
// its rowid.
type seqSchema struct{ fakeSchema }

func (seqSchema) Sequence(name string) bool { return name == "s" || name == "items_id_seq" }

func (seqSchema) OwnedSequence(table, column string) string {
	if table == "items" && column == "id" {
		return "items_id_seq"
	}
	return ""
}

func newSeqSchema() seqSchema {
	s := testSchema()
	id := testCol("id", "int4", -1, true)
	id.PrimaryKey, id.Rowid, id.Default = true, true, "nextval('items_id_seq'::regclass)"
	s["items"] = &TableInfo{Name: "items", OID: 16400, Columns: []ColumnInfo{id, testCol("v", "text", -1, false)}}
	return seqSchema{s}
}

func TestTranslateSequences(t *testing.T) {
	tests := []struct {
		name, in, want string
		kind           Kind
	}{
		{"create with pg_dump's options", "CREATE SEQUENCE public.t_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
			`SELECT pgraft_seq_ddl('{"op":"create","name":"t_id_seq","type":23,"increment":1,"no_min":true,"no_max":true,"start":1,"cache":1}')`, KindDDL},
		{"owned by", "ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id",
			`SELECT pgraft_seq_ddl('{"op":"alter","name":"t_id_seq","owned_by":["t","id"]}')`, KindDDL},
		{"owned by none, restart, cycle", "ALTER SEQUENCE IF EXISTS s OWNED BY NONE RESTART WITH -9223372036854775808 NO CYCLE",
			`SELECT pgraft_seq_ddl('{"op":"alter","name":"s","if_exists":true,"cycle":false,"restart":true,"restart_with":-9223372036854775808,"owned_by":[]}')`, KindDDL},
		{"drop", "DROP SEQUENCE IF EXISTS s, public.t CASCADE",
			`SELECT pgraft_seq_ddl('{"op":"drop","names":["s","t"],"if_exists":true,"cascade":true}')`, KindDDL},
		{"pg_dump's setval is a write returning rows", "SELECT pg_catalog.setval('public.t_id_seq', 3, true)",
			`SELECT pg_setval('t_id_seq', 3, 1) AS "setval"`, KindUpdate},
		{"nextval of a regclass", "SELECT nextval('public.t_id_seq'::regclass)", `SELECT pg_nextval('t_id_seq') AS "nextval"`, KindUpdate},
		{"nextval of a quoted name", `SELECT nextval('"MixedCase"'), nextval('Folded')`,
			`SELECT pg_nextval('MixedCase') AS "nextval", pg_nextval('folded') AS "nextval"`, KindUpdate},
		{"nextval in a default", "CREATE TABLE t (id int DEFAULT nextval('public.t_id_seq'::regclass))",
			`CREATE TABLE t ("id" INT4 DEFAULT (pg_nextval('t_id_seq')) CONSTRAINT "pgraft_range_int4_id" CHECK ("id" BETWEEN -2147483648 AND 2147483647))`, KindDDL},
		{"a sequence read as a relation", "SELECT last_value, is_called FROM public.s",
			`SELECT last_value AS "last_value", is_called AS "is_called" FROM (SELECT last_value, log_cnt, is_called FROM pg_sequence_state WHERE seqname = 's') AS s`, KindSelect},
		{"serial table without the key gets its nextval", "INSERT INTO items (v) VALUES ('a'), ('b')",
			`INSERT INTO items (v, id) SELECT *, pg_nextval('items_id_seq') FROM (VALUES ('a'), ('b'))`, KindInsert},
		{"serial table, DEFAULT VALUES", "INSERT INTO items DEFAULT VALUES", `INSERT INTO items (id) VALUES (pg_nextval('items_id_seq'))`, KindInsert},
		{"serial table with an explicit key", "INSERT INTO items (id, v) VALUES (5, 'a')", `INSERT INTO items (id, v) VALUES (5, 'a')`, KindInsert},
		{"Django's sequence reset", `SELECT setval(pg_get_serial_sequence('"items"','id'), coalesce(max("id"), 1), max("id") IS NOT null) FROM "items"`,
			`SELECT pg_setval('items_id_seq', coalesce(max(id), 1), max(id) IS NOT NULL) AS "setval" FROM items`, KindUpdate},
		{"a column without a sequence", `SELECT nextval(pg_get_serial_sequence('users', 'name'))`, `SELECT pg_nextval(NULL) AS "nextval"`, KindUpdate},
		{"truncate restart identity", "TRUNCATE items RESTART IDENTITY", "DELETE FROM items", KindDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sts, err := SQL(tc.in, newSeqSchema(), testOptions())
			if err != nil {
				t.Fatalf("SQL(%q): %v", tc.in, err)
			}
			st := sts[0]
			if st.SQL != tc.want || st.Kind != tc.kind {
				t.Errorf("SQL(%q)\n got: %s (kind %d)\nwant: %s (kind %d)", tc.in, st.SQL, st.Kind, tc.want, tc.kind)
			}
			if st.Kind == KindUpdate && (st.Tag != "SELECT" || !st.Returning) {
				t.Errorf("SQL(%q): a write that returns rows wants Tag SELECT and Returning: %+v", tc.in, st)
			}
		})
	}
}

func TestTranslateSequencePost(t *testing.T) {
	sts, err := SQL("CREATE TABLE t (id bigserial PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY (START 5))", newSeqSchema(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`SELECT pgraft_seq_ddl('{"op":"create","name":"t_id_seq","type":20,"owned_by":["t","id"]}')`,
		`SELECT pgraft_seq_ddl('{"op":"create","name":"t_n_seq","type":23,"start":5,"owned_by":["t","n"],"identity":"a"}')`,
	}
	if strings.Join(sts[0].Post, "\n") != strings.Join(want, "\n") {
		t.Errorf("CREATE TABLE serial Post:\n got %q\nwant %q", sts[0].Post, want)
	}
	// The name PostgreSQL would choose is taken: a number is appended.
	sts, err = SQL("CREATE TABLE items (id serial)", newSeqSchema(), testOptions())
	if err != nil || !strings.Contains(sts[0].Post[0], `"name":"items_id_seq1"`) {
		t.Errorf("taken sequence name: %v %v", sts, err)
	}
	sts, err = SQL("SELECT currval('s')", newSeqSchema(), testOptions())
	if err != nil || sts[0].SessionSeq == nil || sts[0].SessionSeq.Name != "s" || sts[0].SessionSeq.Column != "currval" {
		t.Errorf("currval alone: %+v %v", sts, err)
	}
	sts, err = SQL("SELECT lastval() AS v", newSeqSchema(), testOptions())
	if err != nil || sts[0].SessionSeq == nil || sts[0].SessionSeq.Name != "" || sts[0].SessionSeq.Column != "v" {
		t.Errorf("lastval alone: %+v %v", sts, err)
	}
}

func TestTranslateSequenceErrors(t *testing.T) {
	for _, c := range []struct{ in, code, msg string }{
		{"SELECT nextval(name) FROM users", pgerror.FeatureNotSupported, "sequence name literal"},
		{"SELECT nextval($1)", pgerror.FeatureNotSupported, "sequence name literal"},
		{"CREATE VIEW v AS SELECT currval('s')", pgerror.FeatureNotSupported, "currval"},
		{"SELECT nextval('other.s')", "3F000", "schema \"other\" does not exist"},
		{"SELECT nextval('a.b.c')", pgerror.InvalidName, "invalid name syntax"},
		{"CREATE SEQUENCE s RESTART 5", pgerror.SyntaxError, "RESTART"},
		{"CREATE SEQUENCE s AS text", pgerror.InvalidParameterValue, "sequence type"},
		{"CREATE SEQUENCE s INCREMENT 1 INCREMENT 2", pgerror.SyntaxError, "conflicting"},
		{"CREATE TABLE t (id serial DEFAULT 1)", pgerror.SyntaxError, "multiple default values"},
		{"CREATE TABLE t (id text GENERATED ALWAYS AS IDENTITY)", pgerror.InvalidParameterValue, "identity column type"},
		{"ALTER SEQUENCE s SET SCHEMA public", pgerror.FeatureNotSupported, ""},
	} {
		_, err := SQL(c.in, newSeqSchema(), testOptions())
		e := pgerror.As(err)
		if e == nil || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("SQL(%q) = %v, want %s containing %q", c.in, err, c.code, c.msg)
		}
	}
}

func TestTranslateSequenceNames(t *testing.T) {
	for _, c := range []struct{ in, code string }{
		{"CREATE TABLE s (a int)", pgerror.DuplicateTable},
		{"DROP TABLE s", pgerror.WrongObjectType},
		{"DROP VIEW IF EXISTS public.s", pgerror.WrongObjectType},
	} {
		_, err := SQL(c.in, newSeqSchema(), testOptions())
		if e := pgerror.As(err); e == nil || e.Code != c.code {
			t.Errorf("SQL(%q) = %v, want %s", c.in, err, c.code)
		}
	}
	if sts, err := SQL("CREATE TABLE IF NOT EXISTS s (a int)", newSeqSchema(), testOptions()); err != nil || sts[0].Kind != KindNoop {
		t.Errorf("CREATE TABLE IF NOT EXISTS of a sequence's name: %v %v", sts, err)
	}
}

func TestTranslateSessionValues(t *testing.T) {
	sts, err := SQL("INSERT INTO users (id, name) VALUES (currval('s'), 'x'), (lastval(), 'y')", newSeqSchema(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	st := sts[0]
	if !st.SessionValues || !strings.Contains(st.SQL, "pg_currval('s', NULL)") || !strings.Contains(st.SQL, "pg_lastval(NULL)") {
		t.Fatalf("currval in an INSERT: %+v", st)
	}
	bound := BindSessionSeqs(st.SQL, func(name string) (int64, bool) { return 41, name == "s" }, func() (int64, bool) { return 7, true })
	if !strings.Contains(bound, "pg_currval('s', 41)") || !strings.Contains(bound, "pg_lastval(7)") {
		t.Errorf("bound: %s", bound)
	}
	// A value the session lacks stays NULL: the function fails only if
	// it runs, as in PostgreSQL.
	if got := BindSessionSeqs(st.SQL, func(string) (int64, bool) { return 0, false }, func() (int64, bool) { return 0, false }); got != st.SQL {
		t.Errorf("unbound: %s", got)
	}
	// A string literal that looks like the marker is not one: its quotes
	// are doubled.
	sts, err = SQL("SELECT 'pg_currval(''s'', NULL)', currval('s')", newSeqSchema(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	bound = BindSessionSeqs(sts[0].SQL, func(string) (int64, bool) { return 5, true }, func() (int64, bool) { return 0, false })
	if strings.Count(bound, ", 5)") != 1 || !strings.Contains(bound, "'pg_currval(''s'', NULL)'") {
		t.Errorf("a literal was bound: %s", bound)
	}
}

func TestRegclassName(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"s", "s", true}, {"S", "s", true}, {"public.S", "s", true}, {` public . "Mixed" `, "Mixed", true},
		{`"a""b"`, `a"b`, true}, {"Ünï", "Ünï", true}, {"other.s", "", false}, {"a.b.c", "", false},
		{"my seq", "", false}, {`"a"b`, "", false}, {`"open`, "", false}, {"", "", false}, {".s", "", false},
	} {
		got, ok := RegclassName(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("RegclassName(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
