package sqlengine

import (
	"context"
	"testing"
	"time"
)

// endlessCount never finishes: only an interrupt ends it.
const endlessCount = `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r`

// endlessRows streams rows forever.
const endlessRows = `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r`

// expiring returns a context that ends after d; its cancel runs at cleanup.
func expiring(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestCanceledSpeculativeWrite: an interrupted write inside a speculative
// transaction makes SQLite roll back the whole transaction. The WriteTx
// must notice: later statements fail with ErrRolledBack instead of running
// outside any transaction, Rollback does not panic, and the write
// connection can be borrowed again. An interrupted read in the transaction
// leaves it intact.
func TestCanceledSpeculativeWrite(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	e.ApplyBatch([]Command{{Index: 1, Data: entry(t, 1, 1, `CREATE TABLE t (id int PRIMARY KEY)`)}})

	wt, err := e.BeginWrite(ctx, ExecContext{TimeMicros: 1, TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (1)`, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Query(expiring(t, 20*time.Millisecond), endlessCount, nil); err == nil {
		t.Fatal("an interrupted read in the transaction succeeded")
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (2)`, nil, false); err != nil {
		t.Fatalf("write after an interrupted read: %v (the transaction should be intact)", err)
	}
	endlessInsert := `INSERT INTO t SELECT n FROM (` + endlessRows + `) WHERE n < 0`
	if _, err := wt.Exec(expiring(t, 20*time.Millisecond), endlessInsert, nil, false); err == nil {
		t.Fatal("an interrupted write succeeded")
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (3)`, nil, false); err != ErrRolledBack {
		t.Fatalf("write after an interrupted write: %v, want ErrRolledBack", err)
	}
	if err := wt.RollbackTo(ctx, "s"); err != ErrRolledBack {
		t.Fatalf("ROLLBACK TO after an interrupted write: %v, want ErrRolledBack", err)
	}
	wt.Rollback()

	wt, err = e.BeginWrite(ctx, ExecContext{TimeMicros: 2, TimeZone: "UTC"})
	if err != nil {
		t.Fatalf("borrow the write connection again: %v", err)
	}
	if _, err := wt.Exec(ctx, `INSERT INTO t VALUES (4)`, nil, false); err != nil {
		t.Fatal(err)
	}
	p, err := wt.Finish()
	if err != nil || p == nil || len(p.Ops) != 1 {
		t.Fatalf("Finish = %+v, %v; want the one insert", p, err)
	}
}
