package sqlengine

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// TestCanceledReadsLeaveThePoolUsable interrupts reads every way a session
// runs them: a statement still computing its first row, a result being
// streamed, and a snapshot transaction's read. Each must end with the
// context's error, and afterwards every pooled connection must be back in
// autocommit (no transaction left open) and serve reads.
func TestCanceledReadsLeaveThePoolUsable(t *testing.T) {
	const conns = 2
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), ReadConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	for i := 0; i < 10; i++ {
		ctx := expiring(t, 20*time.Millisecond)
		if rows, err := e.Query(ctx, endlessCount, nil); err == nil {
			rows.Close()
			t.Fatal("an interrupted count returned rows")
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("interrupted count: %v, want the context's error", err)
		}

		ctx = expiring(t, 20*time.Millisecond)
		rows, err := e.Query(ctx, endlessRows, nil)
		if err != nil {
			t.Fatalf("streaming query: %v", err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("interrupted stream: %v, want the context's error", err)
		}
		rows.Close()

		rt, err := e.BeginRead(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ctx = expiring(t, 20*time.Millisecond)
		if rows, err := rt.Query(ctx, endlessCount, nil); err == nil {
			rows.Close()
			t.Fatal("an interrupted snapshot read returned rows")
		}
		rt.Close()
	}
	if _, inUse := e.ReadStats(); inUse != 0 {
		t.Fatalf("%d read connections still in use", inUse)
	}
	ctx := expiring(t, 10*time.Second)
	held := make([]*ReadTx, 0, conns)
	for i := 0; i < conns; i++ { // every connection of the pool at once
		rt, err := e.BeginRead(ctx)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		held = append(held, rt)
		var one any
		rows, err := rt.Query(ctx, "SELECT 1", nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if rows.Next() {
			v, _ := rows.Values()
			one = v[0]
		}
		rows.Close()
		if one != int64(1) {
			t.Fatalf("connection %d: SELECT 1 = %v, %v", i, one, rows.Err())
		}
	}
	for _, rt := range held {
		rt.Close()
	}
}

// TestReadConnInTransactionIsNotReused: a connection given back inside a
// transaction is closed rather than handed to the next read.
func TestReadConnInTransactionIsNotReused(t *testing.T) {
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx := expiring(t, 10*time.Second)
	c, err := e.read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	closeConn(c) // as if its ROLLBACK had failed
	c, err = e.read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var auto bool
	c.Raw(func(dc any) error { auto = dc.(*sqlite3.SQLiteConn).AutoCommit(); return nil })
	if !auto {
		t.Fatal("the pool handed out a connection inside a transaction")
	}
}

// TestSchemaWaitObeysContext: a session waiting behind a schema reload (one
// that waits for a read connection, say) gives up when its context ends.
func TestSchemaWaitObeysContext(t *testing.T) {
	e := newTestEngine(t)
	e.schemaSem <- struct{}{} // a reload in progress
	defer func() { <-e.schemaSem }()
	e.schemaDirty.Store(true)
	if _, err := e.Schema(expiring(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Schema = %v, want the context's error", err)
	}
}

// TestSnapshotIgnoresAFullReadPool: Snapshot runs on the apply goroutine,
// so it must not wait for a read connection that a client holds.
func TestSnapshotIgnoresAFullReadPool(t *testing.T) {
	e, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite"), ReadConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.ApplyBatch([]Command{{Index: 1, Data: entry(t, 1, 1, `CREATE TABLE t (id int PRIMARY KEY)`)}})
	rows, err := e.Query(context.Background(), endlessRows, nil) // holds the one read connection
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type result struct {
		snap *Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		s, err := e.Snapshot()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer r.snap.Release()
		if r.snap.Index() != 1 {
			t.Fatalf("snapshot index %d, want 1", r.snap.Index())
		}
		if err := r.snap.Persist(io.Discard); err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		rows.Close() // lets Snapshot go on, so that the engine can close
		if r := <-done; r.err == nil {
			r.snap.Release()
		}
		t.Fatal("Snapshot waits for the read pool")
	}
}

// TestReadsObeyContextBehindARestore: while a Restore waits for the reads
// running now, a new read gives up when its context ends instead of
// waiting for the Restore, which waits for the long read.
func TestReadsObeyContextBehindARestore(t *testing.T) {
	e := newTestEngine(t)
	rows, err := e.Query(context.Background(), endlessRows, nil) // a long read, holding swap shared
	if err != nil {
		t.Fatal(err)
	}
	restored := make(chan struct{})
	go func() { // Restore's part: swap exclusively, once the long read ends
		e.swap.Lock()
		e.swap.Unlock()
		close(restored)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for e.swap.TryRLock() { // until the writer waits
		e.swap.RUnlock()
		if time.Now().After(deadline) {
			t.Fatal("the writer never waited")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := e.Query(expiring(t, 50*time.Millisecond), "SELECT 1", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read behind a waiting Restore: %v, want the context's error", err)
	}
	rows.Close()
	select {
	case <-restored:
	case <-time.After(20 * time.Second):
		t.Fatal("the writer never got the lock")
	}
	rows, err = e.Query(expiring(t, 10*time.Second), "SELECT 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
}
