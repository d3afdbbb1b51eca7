package translate

import (
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

func TestBoundedInsert(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{`INSERT INTO t VALUES (1, 'a')`, true},
		{`INSERT INTO t VALUES ($1, $2::text), (-3, DEFAULT)`, true},
		{`INSERT INTO t (a) VALUES (1 + $1 * 2)`, true},
		{`INSERT INTO t VALUES ($1, 'v') ON CONFLICT (k) DO UPDATE SET v = excluded.v`, true},
		{`INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING`, true},
		{`INSERT INTO t VALUES ($1, 'v') ON CONFLICT (k) DO UPDATE SET v = (SELECT max(v) FROM t)`, false},
		{`INSERT INTO t VALUES ($1, 'v') ON CONFLICT (k) DO UPDATE SET v = repeat('x', 1000000)`, false},
		{`INSERT INTO t VALUES (repeat('ab', 4611686018427387904))`, false},
		{`INSERT INTO t VALUES ((SELECT count(*) FROM t))`, false},
		{`INSERT INTO t SELECT * FROM u`, false},
		{`INSERT INTO t SELECT count(*) FROM generate_series(1, 9000000000000000000)`, false},
		{`WITH x AS (SELECT 1) INSERT INTO t VALUES (1)`, false},
		{`INSERT INTO t DEFAULT VALUES`, false},
		{`INSERT INTO t VALUES (now())`, false},
	}
	for _, tt := range tests {
		tree, err := pg.Parse(tt.sql)
		if err != nil {
			t.Fatalf("%s: %v", tt.sql, err)
		}
		if got := boundedInsert(tree.Stmts[0].Stmt.GetInsertStmt()); got != tt.want {
			t.Errorf("boundedInsert(%s) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}
