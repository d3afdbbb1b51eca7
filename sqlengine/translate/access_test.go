package translate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	pgparser "github.com/pganalyze/pg_query_go/v6"
)

// TestAccessOf: the relations a statement uses and the privileges each
// use needs, as PostgreSQL checks them.
func TestAccessOf(t *testing.T) {
	cases := []struct{ sql, want string }{
		{"SELECT * FROM t JOIN u USING (id)", "[{t r false} {u r false}]"},
		{"SELECT * FROM pg_class, information_schema.tables, public.t", "[{pg_class r false} {t r false}]"},
		{"SELECT * FROM other.t", "[]"},
		{"WITH x AS (SELECT * FROM t) SELECT * FROM x", "[{t r false}]"},
		{"SELECT (SELECT max(a) FROM t) FROM u WHERE EXISTS (SELECT 1 FROM v)", "[{t r false} {u r false} {v r false}]"},
		{"INSERT INTO t VALUES (1)", "[{t a false}]"},
		{"INSERT INTO t SELECT * FROM u RETURNING *", "[{t a false} {t r false} {u r false}]"},
		{"INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 2", "[{t a false} {t r false} {t w false}]"},
		{"UPDATE t SET v = 1", "[{t w false}]"},
		{"UPDATE t SET v = v + 1", "[{t w false} {t r false}]"},
		{"UPDATE t SET v = 1 WHERE id = 2", "[{t w false} {t r false}]"},
		{"DELETE FROM t", "[{t d false}]"},
		{"DELETE FROM t USING u WHERE t.id = u.id", "[{t d false} {t r false} {u r false}]"},
		{"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "[{t d false} {t r false}]"},
		{"TRUNCATE t, u", "[{t D false} {u D false}]"},
		{"CREATE TABLE n (id int REFERENCES t (id))", "[{ C true} {t x false}]"},
		{"CREATE TABLE n (LIKE t)", "[{ C true} {t r false}]"},
		{"CREATE VIEW w AS SELECT * FROM t", "[{ C true} {t r false}]"},
		{"CREATE OR REPLACE VIEW w AS SELECT 1", "[{ C true} {w O false}]"},
		{"CREATE SEQUENCE s", "[{ C true}]"},
		{"CREATE INDEX ON t (a)", "[{t O false}]"},
		{"ALTER TABLE t ADD COLUMN b int", "[{t O false}]"},
		{"ALTER TABLE t ADD FOREIGN KEY (b) REFERENCES u (id)", "[{u x false} {t O false}]"},
		{"ALTER TABLE t RENAME TO t2", "[{t O false}]"},
		{"ALTER SEQUENCE s RESTART", "[{s O false}]"},
		{"DROP TABLE t, public.u, other.v", "[{t O false} {u O false}]"},
		{"DROP INDEX i", "[{i O false}]"},
		{"SELECT nextval('s'), currval('public.s'), setval('\"S\"', 1)", "[{s Uw false} {s rU false} {S w false}]"},
		{"SELECT nextval('s'::regclass)", "[{s Uw false}]"},
		{"DECLARE c CURSOR FOR SELECT * FROM t", "[{t r false}]"},
	}
	for _, c := range cases {
		tree, err := pgparser.Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		got := accessOf(tree.Stmts[0].Stmt)
		// The walk's order follows protobuf's field order, which is not
		// fixed: compare as sets.
		slices.SortFunc(got, func(a, b Access) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		if s := fmt.Sprint(got); s != sortedAccessText(c.want) && !(len(got) == 0 && c.want == "[]") {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, s, c.want)
		}
	}
}

// sortedAccessText sorts the items of an "[{…} {…}]" text as the test sorts
// what accessOf returns.
func sortedAccessText(s string) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if inner == "" {
		return "[]"
	}
	items := strings.Split(inner, "} {")
	for i := range items {
		items[i] = "{" + strings.Trim(items[i], "{}") + "}"
	}
	slices.Sort(items)
	return "[" + strings.Join(items, " ") + "]"
}
