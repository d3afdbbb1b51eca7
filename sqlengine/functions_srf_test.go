package sqlengine

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Each case is a PostgreSQL query, translated and run on SQLite with the
// engine's functions and catalog; want is PostgreSQL 15's answer (booleans
// as 1/0, NULL as <nil>).
func TestSetReturningFunctions(t *testing.T) {
	db, state := openCatalogDB(t, []string{
		`CREATE TABLE t ("id" INTEGER /*pg:int4*/ PRIMARY KEY, "a" TEXT, "tags" TEXT)`,
		`INSERT INTO t VALUES (1, 'x,y', '{p,q}'), (2, 'z', '{r}'), (3, NULL, NULL)`,
	})
	tests := []struct {
		name, pg string
		want     []string
	}{
		{"unnest", `SELECT * FROM unnest(ARRAY[1,2])`, []string{"1", "2"}},
		{"unnest alias names the column", `SELECT u FROM unnest(ARRAY[1,2]) AS u WHERE u > 1`, []string{"2"}},
		{"unnest zips arrays", `SELECT * FROM unnest(ARRAY[1,2], ARRAY['a','b','c']) WITH ORDINALITY`,
			[]string{"1|a|1", "2|b|2", "<nil>|c|3"}},
		{"unnest column aliases", `SELECT q.n, x.v, o FROM unnest(ARRAY['a','b']) WITH ORDINALITY x(v, o), (SELECT 1 AS n) q(n) ORDER BY x.o DESC`,
			[]string{"1|b|2", "1|a|1"}},
		{"a column reads as one operand", `SELECT 'w' || v || '!' FROM unnest(ARRAY['a']) v`, []string{"wa!"}},
		{"unnest text keeps numbers text", `SELECT v || '!' FROM unnest('{1,2}'::text[]) v`, []string{"1!", "2!"}},
		{"unnest booleans", `SELECT count(*) FROM unnest(ARRAY[true,false,true]) b WHERE b`, []string{"2"}},
		{"unnest lateral", `SELECT t.id, tag FROM t, unnest(t.tags::text[]) tag ORDER BY 1, 2`, []string{"1|p", "1|q", "2|r"}},
		{"unnest in a scalar subquery", `SELECT id, (SELECT string_agg(x, '+') FROM unnest(t.tags::text[]) x) FROM t ORDER BY id`,
			[]string{"1|p+q", "2|r", "3|<nil>"}},
		{"unnest star with a table", `SELECT * FROM t, unnest(ARRAY[7]) u WHERE t.id = 1`, []string{"1|x,y|{p,q}|7"}},
		{"unnest in a select list", `SELECT unnest(ARRAY[1,2,3]) AS x, generate_subscripts(ARRAY[5,6], 1) AS s`,
			[]string{"1|1", "2|2", "3|<nil>"}},
		{"select-list unnest per row", `SELECT id, unnest(tags::text[]) FROM t ORDER BY 1, 2`, []string{"1|p", "1|q", "2|r"}},
		{"a one-column function's alias is its value", `SELECT t FROM jsonb_array_elements_text('["a"]') t`, []string{"a"}},
		{"generate_subscripts", `SELECT * FROM generate_subscripts(ARRAY['a','b','c'], 1)`, []string{"1", "2", "3"}},
		{"generate_subscripts reverse", `SELECT * FROM generate_subscripts(ARRAY['a','b'], 1, true)`, []string{"2", "1"}},
		{"generate_subscripts other dimension", `SELECT count(*) FROM generate_subscripts(ARRAY[1], 2)`, []string{"0"}},
		{"json_each keeps order and text", `SELECT * FROM json_each('{"b": [1,  2], "a":"x"}')`, []string{`b|[1,  2]`, `a|"x"`}},
		{"jsonb_each sorts and normalizes", `SELECT key, value FROM jsonb_each('{"b": [1,  2], "a":"x"}')`, []string{`a|"x"`, `b|[1, 2]`}},
		{"jsonb_each_text", `SELECT * FROM jsonb_each_text('{"a":"x","b":null,"c":{"d":1}}')`, []string{`a|x`, `b|<nil>`, `c|{"d": 1}`}},
		{"json_array_elements", `SELECT value FROM json_array_elements('[1, "a", {"x":1}]')`, []string{`1`, `"a"`, `{"x":1}`}},
		{"jsonb_array_elements_text", `SELECT * FROM jsonb_array_elements_text('["a", 2, null]') WITH ORDINALITY e(v, n)`,
			[]string{"a|1", "2|2", "<nil>|3"}},
		{"jsonb_object_keys", `SELECT * FROM jsonb_object_keys('{"bb":1,"a":2}')`, []string{"a", "bb"}},
		{"regexp_split_to_table", `SELECT * FROM regexp_split_to_table('a1b22c', '[0-9]+')`, []string{"a", "b", "c"}},
		{"regexp_split_to_table empty pattern", `SELECT * FROM regexp_split_to_table('abc', '')`, []string{"a", "b", "c"}},
		{"string_to_table with null string", `SELECT * FROM string_to_table('a,b,x', ',', 'x')`, []string{"a", "b", "<nil>"}},
		{"string_to_table null delimiter", `SELECT * FROM string_to_table('ab', NULL)`, []string{"a", "b"}},
		{"join on an ordinality", `SELECT c.v FROM unnest(ARRAY[2,1]) WITH ORDINALITY k(id, n) JOIN (VALUES (1,'one'),(2,'two')) c(id, v) ON c.id = k.id ORDER BY k.n`,
			[]string{"two", "one"}},
		{"catalog: primary key columns in order", `SELECT a.attname FROM pg_attribute a JOIN (SELECT unnest(ix.indkey) attnum,
			generate_subscripts(ix.indkey, 1) ord FROM pg_index ix WHERE ix.indrelid = 't'::regclass AND ix.indisprimary) k
			ON a.attnum = k.attnum WHERE a.attrelid = 't'::regclass ORDER BY k.ord`, []string{"id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runPG(t, db, state, tc.pg)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("%s\n got: %q\nwant: %q", tc.pg, got, tc.want)
			}
		})
	}
}

// LATERAL subqueries, read through json_each like set-returning functions;
// PostgreSQL 15's answers.
func TestLateralSubqueries(t *testing.T) {
	db, state := openCatalogDB(t, []string{
		`CREATE TABLE lt ("a" INT4)`, `INSERT INTO lt VALUES (1), (2), (3)`,
		`CREATE TABLE lu ("k" INT4, "v" TEXT, "b" BOOLEAN)`, `INSERT INTO lu VALUES (1, 'x', 1), (1, 'y', 0), (2, 'z', 1)`,
	})
	for _, tc := range []struct {
		pg   string
		want []string
	}{
		{`SELECT lt.a, s.v, s.b FROM lt CROSS JOIN LATERAL (SELECT v, b FROM lu WHERE lu.k = lt.a ORDER BY v DESC LIMIT 1) s ORDER BY 1`,
			[]string{"1|y|0", "2|z|1"}},
		{`SELECT lt.a, s.v FROM lt LEFT JOIN LATERAL (SELECT v FROM lu WHERE lu.k = lt.a AND v = 'y') s ON true ORDER BY 1`,
			[]string{"1|y", "2|<nil>", "3|<nil>"}},
		{`SELECT lt.a, n FROM lt, LATERAL (SELECT lt.a * 10) AS o(n) WHERE n > 10 ORDER BY 1`, []string{"2|20", "3|30"}},
		{`SELECT count(*) FROM lt, LATERAL (SELECT * FROM lu WHERE lu.k = lt.a) s`, []string{"3"}},
	} {
		got := runPG(t, db, state, tc.pg)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s\n got: %q\nwant: %q", tc.pg, got, tc.want)
		}
	}
}

func TestSetReturningFunctionErrors(t *testing.T) {
	db, state := openCatalogDB(t, nil)
	tests := []struct{ name, pg, code, msg string }{
		{"jsonb_each of an array", `SELECT * FROM jsonb_each('[1]')`, "22023", "cannot call jsonb_each on a non-object"},
		{"json_each of an array", `SELECT * FROM json_each('[1]')`, "22023", "cannot deconstruct an array as an object"},
		{"json_each of a scalar", `SELECT * FROM json_each('1')`, "22023", "cannot deconstruct a scalar"},
		{"jsonb_array_elements of an object", `SELECT * FROM jsonb_array_elements('{}')`, "22023", "cannot extract elements from an object"},
		{"json_array_elements of a scalar", `SELECT * FROM json_array_elements('1')`, "22023", "cannot call json_array_elements on a scalar"},
		{"jsonb_object_keys of an array", `SELECT * FROM jsonb_object_keys('[]')`, "22023", "cannot call jsonb_object_keys on an array"},
		{"bad json", `SELECT * FROM jsonb_each('{')`, "22P02", "invalid input syntax for type json"},
		{"regexp_split_to_table global", `SELECT * FROM regexp_split_to_table('a', 'b', 'g')`, "22023", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sts, err := translate.SQL(tc.pg, state.Get(), translate.Options{})
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			_, err = db.Exec(sts[0].SQL)
			if err == nil {
				t.Fatal("no error")
			}
			code, msg, ok := splitFuncError(err.Error())
			if !ok || code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("error %q, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
}

// runPG translates a PostgreSQL query against the database's schema and
// runs it, rendering its rows as "a|b" lines.
func runPG(t *testing.T, db *sql.DB, state *catalogState, pg string) []string {
	t.Helper()
	sts, err := translate.SQL(pg, state.Get(), translate.Options{})
	if err != nil {
		t.Fatalf("translate %q: %v", pg, err)
	}
	rows, err := db.Query(sts[0].SQL)
	if err != nil {
		t.Fatalf("SQLite refused %q (from %q): %v", sts[0].SQL, pg, err)
	}
	return renderRows(t, rows)
}

// translateFor translates one query against the state's schema.
func translateFor(state *catalogState, pg string) (string, error) {
	sts, err := translate.SQL(pg, state.Get(), translate.Options{})
	if err != nil {
		return "", err
	}
	return sts[0].SQL, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestGenerateSeriesAsSetReturningFunction(t *testing.T) {
	db, state := openCatalogDB(t, []string{
		`CREATE TABLE t ("id" INTEGER /*pg:int4*/ PRIMARY KEY, "n" INT4)`,
		`INSERT INTO t VALUES (1, 2), (2, 3)`,
	})
	for _, tc := range []struct {
		pg   string
		want []string
	}{
		{`SELECT t.id, g FROM t, generate_series(1, t.n) g ORDER BY 1, 2`, []string{"1|1", "1|2", "2|1", "2|2", "2|3"}},
		{`SELECT * FROM generate_series(10, 1, -4) WITH ORDINALITY AS s(v, i)`, []string{"10|1", "6|2", "2|3"}},
		{`SELECT generate_series(1, 3)`, []string{"1", "2", "3"}},
		{`SELECT * FROM generate_series(1, 2, 0.5) WITH ORDINALITY`, []string{"1|1", "1.5|2", "2|3"}},
		{`SELECT count(*) > 0 FROM generate_series(1e20, 1e20 + 1, 1.0) WITH ORDINALITY`, []string{"1"}}, // ends: numeric is a double here (README)
		{`SELECT * FROM generate_series(3, 1) WITH ORDINALITY`, nil},
	} {
		got := runPG(t, db, state, tc.pg)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s\n got: %q\nwant: %q", tc.pg, got, tc.want)
		}
	}
	q, err := translateFor(state, `SELECT * FROM generate_series(1, 9000000000000) WITH ORDINALITY`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "54000") {
		t.Errorf("a series too long to hold: %v", err)
	}
	q, _ = translateFor(state, `SELECT * FROM generate_series(1, 3, 0) WITH ORDINALITY`)
	if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "step size cannot equal zero") {
		t.Errorf("step zero: %v", err)
	}
}
