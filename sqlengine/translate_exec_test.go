package sqlengine

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

// The tests below run translated SQL on a real in-memory SQLite, with
// trivial stand-ins for the pg_* functions (the real ones live in
// functions*.go), to prove that SQLite accepts what translation emits and
// returns PostgreSQL's answer.

// standInFunctions registers minimal pg_* functions for these tests only.
func standInFunctions(c *sqlite3.SQLiteConn) error {
	funcs := map[string]any{
		"pg_now":       func() string { return "2024-05-06 07:08:09" },
		"pg_now_local": func() string { return "2024-05-06 07:08:09" },
		"pg_cast": func(v any, src, dst string, mod int64) any {
			switch dst {
			case "text", "varchar":
				return fmt.Sprint(v)
			case "bool":
				s := strings.ToLower(fmt.Sprint(v))
				return s == "t" || s == "true" || s == "yes" || s == "1"
			}
			return v
		},
		"pg_regex": func(s, re, flags string) (bool, error) {
			if flags == "i" {
				re = "(?i)" + re
			}
			return regexp.MatchString(re, s)
		},
		"pg_power": func(a, b int64) float64 { return math.Pow(float64(a), float64(b)) },
		"pg_divisor": func(v int64) (int64, error) {
			if v == 0 {
				return 0, errors.New("division by zero")
			}
			return v, nil
		},
		"pg_greatest": func(a, b int64) int64 { return max(a, b) },
		"pg_array":    func(a, b int64) string { return fmt.Sprintf("{%d,%d}", a, b) },
		"pg_array_contains": func(arr string, v int64) bool {
			for _, e := range strings.Split(strings.Trim(arr, "{}"), ",") {
				if e == fmt.Sprint(v) {
					return true
				}
			}
			return false
		},
	}
	for name, f := range funcs {
		if err := c.RegisterFunc(name, f, true); err != nil {
			return err
		}
	}
	for _, f := range numericFuncs() { // the real ones: numeric is exact text
		if err := c.RegisterFunc(f.name, f.wrap(nil), true); err != nil {
			return err
		}
	}
	if err := registerNumericAggs(c, nil); err != nil {
		return err
	}
	// Sequences: the engine's need the engine (sequences_test.go).
	next := map[string]int64{}
	if err := c.RegisterFunc("pg_nextval", func(s string) int64 { next[s]++; return next[s] }, false); err != nil {
		return err
	}
	return c.RegisterFunc("pgraft_seq_ddl", func(string) any { return nil }, false)
}

// noTables is a schema without tables: the statements create their own.
type noTables struct{}

func (noTables) Table(string) *translate.TableInfo { return nil }

// openExecDB opens a private in-memory SQLite with the stand-ins.
func openExecDB(t *testing.T) *sql.DB {
	t.Helper()
	db := sql.OpenDB(newConnector("file::memory:?_foreign_keys=on", standInFunctions))
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// execPG translates a PostgreSQL statement and runs it (SQL and Post),
// returning its rows rendered as "a|b" lines.
func execPG(t *testing.T, db *sql.DB, schema translate.Schema, pgSQL string) []string {
	t.Helper()
	sts, err := translate.SQL(pgSQL, schema, translate.Options{})
	if err != nil {
		t.Fatalf("Translate(%q): %v", pgSQL, err)
	}
	var out []string
	for _, st := range sts {
		if st.SQL == "" {
			continue
		}
		rows, err := db.Query(st.SQL)
		if err != nil {
			t.Fatalf("SQLite refused %q (from %q): %v", st.SQL, pgSQL, err)
		}
		out = append(out, renderRows(t, rows)...)
		for _, p := range st.Post {
			if _, err := db.Exec(p); err != nil {
				t.Fatalf("SQLite refused post statement %q: %v", p, err)
			}
		}
	}
	return out
}

func renderRows(t *testing.T, rows *sql.Rows) []string {
	t.Helper()
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTranslateRunsOnSQLite(t *testing.T) {
	db := openExecDB(t)
	var empty noTables
	steps := []struct {
		pg   string
		want []string
	}{
		{`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email varchar(50) UNIQUE,
			active boolean DEFAULT true, score numeric(10,2), created timestamptz DEFAULT now())`, nil},
		{`CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int REFERENCES users(id) ON DELETE CASCADE,
			amount numeric NOT NULL CHECK (amount > 0))`, nil},
		{`CREATE INDEX ON orders (user_id)`, nil},
		{`INSERT INTO users (name, email) VALUES ('ann', 'a@x'), ('bob', NULL), ('cy', 'c@x') RETURNING id, name`,
			[]string{"1|ann", "2|bob", "3|cy"}},
		{`INSERT INTO users (name, email) VALUES ('ann2', 'a@x') ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id, name`,
			[]string{"1|ann2"}},
		{`INSERT INTO orders (user_id, amount) VALUES (1, 10), (1, 5), (3, 7)`, nil},
		{`SELECT u.name, sum(o.amount) AS total FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.name ORDER BY total DESC`,
			[]string{"bob|<nil>", "ann2|15", "cy|7"}},
		{`SELECT name, row_number() OVER (ORDER BY email) FROM users ORDER BY 2`,
			[]string{"ann2|1", "cy|2", "bob|3"}},
		{`SELECT name FROM users ORDER BY email DESC`, []string{"bob", "cy", "ann2"}},
		{`WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r`, []string{"15"}},
		{`UPDATE users SET active = false WHERE name LIKE 'b%' RETURNING name, active`, []string{"bob|false"}}, // BOOLEAN declared type: the driver scans a bool
		{`SELECT name FROM users WHERE active IS NOT TRUE OR name ~* '^C'`, []string{"bob", "cy"}},
		{`DELETE FROM users WHERE id = 3 RETURNING id`, []string{"3"}},
		{`SELECT count(*) FROM orders`, []string{"2"}},
		{`SELECT s FROM generate_series(1, 3) s`, []string{"1", "2", "3"}},
		{`SELECT u.id, (SELECT string_agg(s::text, ',') FROM generate_series(1, u.id) s) FROM users u ORDER BY u.id`,
			[]string{"1|1", "2|1,2"}},
		{`SELECT 'x' || NULL IS NULL, 7 / 2, 7 % 3, 2 ^ 3, greatest(1, 2), 1 = ANY (ARRAY[1, 2]), 5 BETWEEN SYMMETRIC 9 AND 1`,
			[]string{"1|3|1|8|2|1|1"}},
		{`SELECT a FROM (VALUES (1, 'x'), (2, 'y')) AS v(a, b) WHERE b LIKE 'y'`, []string{"2"}},
		{`CREATE OR REPLACE VIEW v AS SELECT name FROM users WHERE active`, []string{}},
		{`SELECT * FROM v`, []string{"ann2"}},
		{`TRUNCATE orders`, nil},
		{`SELECT count(*) FROM orders`, []string{"0"}},
		{`INSERT INTO orders (user_id, amount) SELECT id, 3 FROM users ON CONFLICT (id) DO NOTHING`, nil},
		{`SELECT count(*) FROM orders`, []string{"2"}},
		{`UPDATE users u SET score = o.amount FROM orders o WHERE o.user_id = u.id AND u.id = 1 RETURNING u.score`, []string{"3"}},
		{`DELETE FROM users USING orders WHERE orders.user_id = users.id AND users.id = 2`, nil},
		{`SELECT id FROM users ORDER BY id`, []string{"1"}},
		{`DROP VIEW v; DROP TABLE orders, users`, nil},
	}
	for _, s := range steps {
		got := execPG(t, db, empty, s.pg)
		if len(got) != len(s.want) || strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Errorf("%s\n got: %q\nwant: %q", s.pg, got, s.want)
		}
	}
}
