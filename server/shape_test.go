package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestSimpleQueriesShareTranslations runs simple-protocol statements that
// differ only in their constants, as pgbench -M simple and ORMs that
// inline values send them: the later ones reuse the first one's
// translation with their own constants bound (translate.Shape), and every
// answer, error and effect must be what that statement alone would give.
func TestSimpleQueriesShareTranslations(t *testing.T) {
	n := servertest.Start(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(n.DSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	mustExec(t, c, `CREATE TABLE sh (id int PRIMARY KEY, s smallint, v text, n numeric, ts timestamptz)`)
	mustExec(t, c, `INSERT INTO sh VALUES (1, 10, 'a', 1.5, '2024-01-01 00:00:00+00')`)
	mustExec(t, c, `INSERT INTO sh VALUES (2, 20, 'it''s', 2.25, '2024-06-01 12:00:00+00')`)
	mustExec(t, c, `INSERT INTO sh VALUES (3, 30, '?1 ?column?', 7, '2024-07-01 00:00:00+00')`)
	_, err = c.Exec(ctx, `INSERT INTO sh VALUES (4, 40000, 'x', 1.5, '2024-01-01 00:00:00+00')`)
	wantCode(t, err, "22003") // smallint out of range, with the shape of the inserts above
	_, err = c.Exec(ctx, `INSERT INTO sh VALUES (5, 1, 'y', 3.5, 'not a time')`)
	wantCode(t, err, "22007")
	_, err = c.Exec(ctx, `INSERT INTO sh VALUES (1, 1, 'dup', 3.5, '2024-01-01 00:00:00+00')`)
	wantCode(t, err, "23505")

	text := func(sql string) string {
		t.Helper()
		var s string
		if err := c.QueryRow(ctx, sql).Scan(&s); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return s
	}
	for _, tc := range []struct{ sql, want string }{
		{`SELECT v FROM sh WHERE id = 1`, "a"},
		{`SELECT v FROM sh WHERE id = 2`, "it's"},
		{`SELECT v FROM sh WHERE id = 3`, "?1 ?column?"},
		{`SELECT (id + 1)::text || v || '!' FROM sh WHERE id = 2`, "3it's!"},
		{`SELECT (id + 10)::text || v || '?' FROM sh WHERE id = 1`, "11a?"},
		{`SELECT string_agg(id::text, ',' ORDER BY id) FROM sh WHERE ts > '2024-03-01'`, "2,3"},
		{`SELECT string_agg(id::text, ',' ORDER BY id) FROM sh WHERE ts > '2023-03-01'`, "1,2,3"},
		{`SELECT string_agg(id::text, ',' ORDER BY id) FROM sh WHERE id > -1`, "1,2,3"},
		{`SELECT string_agg(id::text, ',' ORDER BY id) FROM sh WHERE id > -2`, "1,2,3"},
		{`SELECT string_agg(v, ',') FROM (SELECT id, v FROM sh ORDER BY 1 DESC) q`, "?1 ?column?,it's,a"},
		{`SELECT string_agg(v, ',') FROM (SELECT id, v FROM sh ORDER BY 2) q`, "?1 ?column?,a,it's"},
		{`SELECT string_agg(v, ',') FROM (SELECT v FROM sh ORDER BY id LIMIT 1) q`, "a"},
		{`SELECT string_agg(v, ',') FROM (SELECT v FROM sh ORDER BY id LIMIT 2) q`, "a,it's"},
		{`SELECT (3000000000 + id)::text FROM sh WHERE id = 1`, "3000000001"},
		{`SELECT (3 + id)::text FROM sh WHERE id = 1`, "4"},
		{`SELECT (n * 2)::text FROM sh WHERE id = 2`, "4.50"}, // numeric keeps the scale, as PostgreSQL
	} {
		if got := text(tc.sql); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.sql, got, tc.want)
		}
	}
	for i := range 5 {
		mustExec(t, c, fmt.Sprintf(`UPDATE sh SET n = n + %d.25, v = v || '%d' WHERE id = %d`, i, i, 1+i%2))
	}
	if got := text(`SELECT n::text || ' ' || v FROM sh WHERE id = 1`); got != "8.25 a024" {
		t.Errorf("after updates: %q, want %q", got, "8.25 a024")
	}
	if got := text(`SELECT n::text || ' ' || v FROM sh WHERE id = 2`); got != "6.75 it's13" {
		t.Errorf("after updates: %q, want %q", got, "6.75 it's13")
	}
}
