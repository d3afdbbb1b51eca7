package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/server/servertest"
)

// queryGolden is one query of a golden file in testdata and what
// PostgreSQL 15 answered.
type queryGolden struct {
	query string
	want  []string // rows, columns joined by '|'; or "ERROR <sqlstate>"
}

// readQueryGolden reads a golden file of queries ("> QUERY") each followed by
// PostgreSQL 15's rows (columns joined by '|') or "ERROR <sqlstate>", blocks
// separated by an empty line.
func readQueryGolden(t *testing.T, name string) []queryGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []queryGolden
	for _, block := range strings.Split(string(b), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) == 0 || !strings.HasPrefix(lines[0], "> ") {
			continue
		}
		out = append(out, queryGolden{query: strings.TrimPrefix(lines[0], "> "), want: lines[1:]})
	}
	if len(out) < 20 {
		t.Fatalf("testdata/%s has %d queries", name, len(out))
	}
	return out
}

// replayQueryGolden runs every query of golden file name in one session
// of a fresh node and compares its text with PostgreSQL 15's.
func replayQueryGolden(t *testing.T, name string) {
	t.Helper()
	c := connect(t, servertest.Start(t))
	ctx := context.Background()
	for _, g := range readQueryGolden(t, name) {
		got := runText(ctx, c, g.query)
		if strings.Join(got, "\n") != strings.Join(g.want, "\n") {
			t.Errorf("%s\n got: %q\nwant: %q", g.query, got, g.want)
		}
	}
}

// runText runs q with the simple protocol and returns its rows as
// PostgreSQL's text, columns joined by '|', or "ERROR <sqlstate>".
func runText(ctx context.Context, c *pgx.Conn, q string) []string {
	res, err := c.PgConn().Exec(ctx, q).ReadAll()
	if err != nil {
		return []string{"ERROR " + sqlstate(err)}
	}
	var rows []string
	for _, r := range res {
		for _, row := range r.Rows {
			cols := make([]string, len(row))
			for i, v := range row {
				cols[i] = string(v)
			}
			rows = append(rows, strings.Join(cols, "|"))
		}
	}
	return rows
}

// TestNumericGolden replays testdata/numeric_golden.txt: exact numeric
// arithmetic, division and rounding scales, casts, aggregates and window
// aggregates, ordering, and the errors, printed as PostgreSQL 15 printed
// them.
func TestNumericGolden(t *testing.T) {
	replayQueryGolden(t, "numeric_golden.txt")
}

// TestNumericTable: numeric(10,2) and numeric columns keep the declared
// scale and the exact value through storage, in text and binary (pgx reads
// numeric in binary), sum and window sums are exact, ORDER BY and a unique
// index compare by value (1.5 = 1.50), on one node and on three that
// converge.
func TestNumericTable(t *testing.T) {
	t.Run("one node", func(t *testing.T) {
		n := servertest.Start(t)
		checkNumericTable(t, connect(t, n))
	})
	t.Run("three nodes", func(t *testing.T) {
		cl := servertest.NewCluster(t, 3)
		checkNumericTable(t, connect(t, cl.Leader()))
		cl.RequireConverged()
		for _, node := range cl.Nodes { // every node reads the same exact values
			c := connect(t, node)
			if got := runText(context.Background(), c, "SELECT sum(total), max(n) FROM orders"); strings.Join(got, "") != "198.95|123456789012345678901.5" {
				t.Errorf("node %s: sum, max = %q", node.DataDir, got)
			}
		}
	})
}

func checkNumericTable(t *testing.T, c *pgx.Conn) {
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL, n numeric)")
	mustExec(t, c, "CREATE UNIQUE INDEX orders_n ON orders (n)")
	mustExec(t, c, "INSERT INTO orders VALUES (1, 190.1, 1.50), (2, 3.14, 2), (3, 1.005, 123456789012345678901.5), (4, $1, $2)",
		"4.695", "0.1")
	_, err := c.Exec(ctx, "INSERT INTO orders VALUES (5, 1, 1.500)")
	wantCode(t, err, "23505") // 1.500 = 1.50
	_, err = c.Exec(ctx, "INSERT INTO orders VALUES (6, 123456789.999, 6)")
	wantCode(t, err, "22003") // numeric(10,2) overflows
	mustExec(t, c, "UPDATE orders SET n = n * 2 WHERE id = 2")

	for _, tc := range []struct{ q, want string }{
		{"SELECT total FROM orders ORDER BY total", "1.01\n3.14\n4.70\n190.10"},
		{"SELECT n FROM orders ORDER BY n DESC", "123456789012345678901.5\n4\n1.50\n0.1"},
		{"SELECT id, sum(total) OVER (ORDER BY id) FROM orders ORDER BY id", "1|190.10\n2|193.24\n3|194.25\n4|198.95"},
		{"SELECT sum(total), avg(total), sum(n) FROM orders", "198.95|49.7375000000000000|123456789012345678907.10"},
		{"SELECT id FROM orders WHERE total = 190.1 AND n = 1.5", "1"},
		{"SELECT id FROM orders WHERE total > 4 ORDER BY id", "1\n4"},
		{"SELECT total * 3, total / 3 FROM orders WHERE id = 2", "9.42|1.04666666666666666667"},
	} {
		if got := strings.Join(runText(ctx, c, tc.q), "\n"); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.q, got, tc.want)
		}
	}

	// pgx's extended protocol reads numeric in binary.
	var total, big pgtype.Numeric
	if err := c.QueryRow(ctx, "SELECT total, n FROM orders WHERE id = 3").Scan(&total, &big); err != nil {
		t.Fatal(err)
	}
	if v, _ := total.Value(); v != "1.01" {
		t.Errorf("binary numeric(10,2) = %v, want 1.01", v)
	}
	if v, _ := big.Value(); v != "123456789012345678901.5" {
		t.Errorf("binary numeric = %v, want 123456789012345678901.5", v)
	}
	var s string
	if err := c.QueryRow(ctx, "SELECT total FROM orders WHERE id = 1", pgx.QueryResultFormats{pgx.TextFormatCode}).Scan(&s); err != nil || s != "190.10" {
		t.Errorf("text numeric(10,2) = %q (%v), want 190.10", s, err)
	}
	// A numeric parameter in binary (pgx sends pgtype.Numeric so).
	var id int
	arg := pgtype.Numeric{}
	if err := arg.Scan("190.100"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT id FROM orders WHERE total = $1", arg).Scan(&id); err != nil || id != 1 {
		t.Errorf("WHERE total = $1 (190.100) = %d (%v), want 1", id, err)
	}
	_ = pgconn.CommandTag{}
}
