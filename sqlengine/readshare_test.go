package sqlengine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// readInts runs q in rt and returns its single int64 column.
func readInts(t *testing.T, rt *ReadTx, q string) []int64 {
	t.Helper()
	rows, err := rt.Query(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v[0].(int64))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSharedReadTx: handles that Share a snapshot read the state Start
// took, whatever applies afterwards; the snapshot outlives the handle that
// exported it while another is open; the last Close returns the connection;
// a handle waits for another's open statement, until its context ends, and
// nests its own.
func TestSharedReadTx(t *testing.T) {
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := applied(e.ApplyBatch([]Command{{Index: 1, Data: entry(t, 1, 1,
		`CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t VALUES (1), (2)`)}})); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp, err := e.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := exp.DataIndex(); got != 1 {
		t.Fatalf("DataIndex after Start = %d, want 1", got)
	}
	imp := exp.Share()
	if err := applied(e.ApplyBatch([]Command{{Index: 2, Data: entry(t, 2, 1, `INSERT INTO t VALUES (3)`)}})); err != nil {
		t.Fatal(err)
	}
	imp2 := exp.Share()
	const q = `SELECT id FROM t ORDER BY id`
	for i, rt := range []*ReadTx{exp, imp, imp2} {
		if got := readInts(t, rt, q); len(got) != 2 || rt.DataIndex() != 1 {
			t.Fatalf("handle %d reads %v at data index %d, want [1 2] at 1", i, got, rt.DataIndex())
		}
	}

	// A statement of one handle holds the connection: another handle waits
	// until its context ends, the same handle nests.
	rows, err := imp.Query(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := imp2.Query(wait, q, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second handle's query during an open one: %v, want to wait until the deadline", err)
	}
	if got := readInts(t, imp, `SELECT count(*) FROM t`); got[0] != 2 {
		t.Fatalf("nested count = %v, want 2", got)
	}
	done := make(chan []int64, 1)
	go func() { done <- readInts(t, imp2, `SELECT count(*) FROM t`) }()
	time.Sleep(20 * time.Millisecond)
	rows.Close() // lets imp2 run
	if got := <-done; got[0] != 2 {
		t.Fatalf("count after the wait = %v, want 2", got)
	}

	// The exporter ends; its importers keep the snapshot.
	exp.Close()
	exp.Close() // twice is safe
	if got := readInts(t, imp2, q); len(got) != 2 {
		t.Fatalf("after the exporter closed: %v, want [1 2]", got)
	}
	imp.Close()
	if _, inUse := e.ReadStats(); inUse != 1 {
		t.Fatalf("%d read connections in use with one handle open, want 1", inUse)
	}
	imp2.Close()
	if _, inUse := e.ReadStats(); inUse != 0 {
		t.Fatalf("%d read connections in use after the last Close, want 0", inUse)
	}
	fresh, err := e.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got := readInts(t, fresh, q); len(got) != 3 {
		t.Fatalf("a new snapshot reads %v, want [1 2 3]", got)
	}
}

// applied returns the first error among ApplyBatch's results.
func applied(res []any) error {
	for _, r := range res {
		switch r := r.(type) {
		case error:
			return r
		case *ApplyResult:
			if r.Err != nil {
				return r.Err
			}
		}
	}
	return nil
}
