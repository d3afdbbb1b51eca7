package sqlengine

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestReadClock: a read's pg_now() and friends are the Clock its context
// carries, in the session's zone where PostgreSQL's are local; a read
// without one (an internal read) sees the node's clock, never the clock
// an earlier read left on the connection.
func TestReadClock(t *testing.T) {
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), ReadConns: 1}) // one connection: every read reuses it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	xact := time.Date(2024, 2, 29, 23, 45, 56, 123456000, time.UTC)
	stmt := xact.Add(1500 * time.Millisecond)
	const q = `SELECT pg_now(), pg_now_local(), pg_current_date(), pg_current_time(), pg_statement_timestamp(),
		pg_now() = pg_now(), pg_clock_timestamp() > '2025'`
	read := func(ctx context.Context) []any {
		t.Helper()
		rows, err := e.Query(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("no row: %v", rows.Err())
		}
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		return append([]any(nil), vals...)
	}
	tests := []struct {
		name string
		clk  Clock
		want []any
	}{
		{"UTC", Clock{Xact: xact, Stmt: stmt}, []any{"2024-02-29 23:45:56.123456", "2024-02-29 23:45:56.123456",
			"2024-02-29", "23:45:56.123456", "2024-02-29 23:45:57.623456", int64(1), int64(1)}},
		{"New York", Clock{Xact: xact, Stmt: stmt, Loc: ny}, []any{"2024-02-29 23:45:56.123456", "2024-02-29 18:45:56.123456",
			"2024-02-29", "18:45:56.123456", "2024-02-29 23:45:57.623456", int64(1), int64(1)}},
		{"no statement time", Clock{Xact: xact, Loc: ny}, []any{"2024-02-29 23:45:56.123456", "2024-02-29 18:45:56.123456",
			"2024-02-29", "18:45:56.123456", "2024-02-29 23:45:56.123456", int64(1), int64(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := read(WithClock(context.Background(), tc.clk))
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("column %d = %#v, want %#v", i, got[i], tc.want[i])
				}
			}
		})
	}
	// Without a clock: this node's, not the one the last read left.
	before := time.Now().UTC().Add(-time.Second)
	got := read(context.Background())
	now, err := time.Parse("2006-01-02 15:04:05.999999", got[0].(string))
	if err != nil {
		t.Fatal(err)
	}
	if now.Before(before) {
		t.Fatalf("pg_now() without a clock = %v: an earlier read's clock", now)
	}
	// A snapshot transaction's reads take each statement's clock.
	rt, err := e.BeginRead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	for _, x := range []time.Time{xact, xact.Add(time.Hour)} {
		rows, err := rt.Query(WithClock(context.Background(), Clock{Xact: x}), "SELECT pg_now()", nil)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		vals, _ := rows.Values()
		if want := formatTimestamp(x); vals[0] != want {
			t.Errorf("snapshot read pg_now() = %v, want %v", vals[0], want)
		}
		rows.Close()
	}
}

// TestWriteTimeFunctions: in a write, statement_timestamp() and
// clock_timestamp() are the entry's time, as now() is: one time per entry,
// the same on every node.
func TestWriteTimeFunctions(t *testing.T) {
	e := newTestEngine(t)
	ec := ExecContext{TimeMicros: time.Date(2024, 1, 2, 3, 4, 5, 678000, time.UTC).UnixMicro()}
	res, err := e.PreRun(context.Background(), ec, []Op{{Kind: OpExec,
		SQL: "SELECT pg_now(), pg_statement_timestamp(), pg_clock_timestamp()", Rows: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("rows = %v", res.Rows)
	}
	for i, v := range res.Rows[0] {
		if v != "2024-01-02 03:04:05.000678" {
			t.Errorf("column %d = %v, want the entry's time", i, v)
		}
	}
}
