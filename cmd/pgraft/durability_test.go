package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestKillDuringInsertLoadLosesNoAcknowledgedRow kills the server with
// SIGKILL while clients insert, restarts it on the same data dir and checks
// that every row whose INSERT was acknowledged is there.
func TestKillDuringInsertLoadLosesNoAcknowledgedRow(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, n.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Exec(ctx, "CREATE TABLE acked (id bigint PRIMARY KEY, worker int NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	setup.Close(ctx)

	const workers, perWorker = 4, 5000 // bounded: the kill comes long before
	var mu sync.Mutex
	var acked []int64
	var wg sync.WaitGroup
	loadCtx, stopLoad := context.WithTimeout(ctx, 60*time.Second)
	defer stopLoad()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn, err := pgx.Connect(loadCtx, n.DSN())
			if err != nil {
				return
			}
			defer conn.Close(context.Background())
			for i := 0; i < perWorker; i++ {
				id := int64(w*perWorker + i)
				if _, err := conn.Exec(loadCtx, "INSERT INTO acked (id, worker) VALUES ($1, $2)", id, w); err != nil {
					return // the server died: this one is unknown, never counted
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}(w)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 300 })
	n.Kill()
	wg.Wait()
	mu.Lock()
	want := append([]int64(nil), acked...)
	mu.Unlock()

	n.Restart()
	conn, err := pgx.Connect(ctx, n.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT id FROM acked")
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if !have[id] {
			t.Fatalf("acknowledged row %d lost after kill -9 (%d acknowledged, %d present)", id, len(want), len(have))
		}
	}
	t.Logf("%d acknowledged rows, %d present after restart", len(want), len(have))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
