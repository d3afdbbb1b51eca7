package sqlengine

import (
	"strings"
	"testing"
)

// PostgreSQL 15's answers to ordered and DISTINCT aggregates.
func TestOrderedAggregates(t *testing.T) {
	db, state := openCatalogDB(t, nil)
	tests := []struct{ name, pg, want string }{
		{"string_agg DISTINCT ORDER BY", `SELECT string_agg(DISTINCT x, ', ' ORDER BY x) FROM (VALUES ('b'),('a'),('b'),(NULL)) v(x)`, "a, b"},
		{"string_agg DISTINCT DESC", `SELECT string_agg(DISTINCT x, ', ' ORDER BY x DESC) FROM (VALUES ('b'),('a'),('b')) v(x)`, "b, a"},
		{"string_agg DISTINCT of no rows", `SELECT string_agg(DISTINCT x, ',') FROM (VALUES ('a')) v(x) WHERE x = 'z'`, "<nil>"},
		{"string_agg ORDER BY", `SELECT string_agg(x, '-' ORDER BY x DESC) FROM (VALUES ('b'),('a'),('c')) v(x)`, "c-b-a"},
		{"array_agg ORDER BY another column", `SELECT array_agg(x ORDER BY y) FROM (VALUES (1, 3),(2, 1),(3, 2)) v(x, y)`, "{2,3,1}"},
		{"array_agg DISTINCT ORDER BY", `SELECT array_agg(DISTINCT x ORDER BY x DESC) FROM (VALUES (1),(2),(1)) v(x)`, "{2,1}"},
		{"percentile_cont", `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1),(2),(4),(10)) v(x)`, "3"},
		{"percentile_cont DESC", `SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY x DESC) FROM (VALUES (1),(2),(4),(10)) v(x)`, "5.5"},
		{"percentile_disc", `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1),(2),(4),(10)) v(x)`, "2"},
		{"mode", `SELECT mode() WITHIN GROUP (ORDER BY x) FROM (VALUES ('a'),('b'),('b'),('c'),('c')) v(x)`, "b"},
		{"percentile of no rows", `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x) WHERE x > 5`, "<nil>"},
		{"percentile per group", `SELECT g, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1, 1.0),(1, 3.0),(2, 5.0)) v(g, x)
			GROUP BY g ORDER BY g`, "1|2\n2|5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runPG(t, db, state, tc.pg)
			if strings.Join(got, "\n") != tc.want {
				t.Fatalf("%s = %q, want %q", tc.pg, got, tc.want)
			}
		})
	}
	q, err := translateFor(state, `SELECT percentile_cont(2) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(q)
	if code, msg, ok := splitFuncError(errString(err)); !ok || code != "22003" || msg != "percentile value 2 is not between 0 and 1" {
		t.Fatalf("percentile 2: %v", err)
	}
}
