package server_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestDivisionByZero: SQLite answers NULL for x / 0 and x % 0; PostgreSQL
// fails with 22012, for every numeric type, in reads and in writes.
func TestDivisionByZero(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	mustExec(t, c, "CREATE TABLE dz (i int, b bigint, n numeric(10,2), f float8)")
	mustExec(t, c, "INSERT INTO dz VALUES (0, 0, 0, 0), (2, 4, 1.5, 0.5)")
	for _, q := range []string{
		"SELECT 1 / 0", "SELECT 5 % 0", "SELECT 1.0 / 0", "SELECT 1::numeric / 0.0", "SELECT 1::float8 / 0",
		"SELECT 1 / i FROM dz", "SELECT b % i FROM dz", "SELECT 1 / n FROM dz", "SELECT 1 / f FROM dz",
		"UPDATE dz SET i = 10 / i", "INSERT INTO dz (i) SELECT 1 / i FROM dz",
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
			_, err := c.Exec(ctx, q, mode)
			if sqlstate(err) != "22012" {
				t.Errorf("%s (%v): %v, want 22012 division by zero", q, mode, err)
			}
		}
	}
	var q, r, nz int64
	if err := c.QueryRow(ctx, "SELECT 7 / 2, -7 % 3, count(*) FILTER (WHERE i <> 0 AND 4 / i = 2) FROM dz").Scan(&q, &r, &nz); err != nil || q != 3 || r != -1 || nz != 1 {
		t.Fatalf("7 / 2, -7 %% 3, a guarded division = %d, %d, %d (%v); want 3, -1, 1", q, r, nz, err)
	}
	if n := count(t, c, "SELECT count(*) FROM dz WHERE i = 0"); n != 1 {
		t.Fatalf("the failed writes changed rows: %d rows with i = 0", n)
	}
}
