package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestGateSharedHoldersAreAdmittedTogether(t *testing.T) {
	var g gate
	ctx := context.Background()
	if err := g.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := g.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	g.release(false)
	g.release(false)
	if err := g.acquire(ctx, true); err != nil {
		t.Fatalf("exclusive after shared released: %v", err)
	}
	g.release(true)
}

func TestGateExclusiveBlocksLaterWritersInOrder(t *testing.T) {
	var g gate
	ctx := context.Background()
	if err := g.acquire(ctx, true); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 2)
	go func() {
		if g.acquire(ctx, true) == nil {
			order <- "exclusive"
			g.release(true)
		}
	}()
	waitQueued(t, &g, 1)
	go func() {
		if g.acquire(ctx, false) == nil {
			order <- "shared"
			g.release(false)
		}
	}()
	waitQueued(t, &g, 2)
	g.release(true)
	if a, b := <-order, <-order; a != "exclusive" || b != "shared" {
		t.Fatalf("order = %s, %s; want FIFO", a, b)
	}
}

func TestGateWaitEndsWithContext(t *testing.T) {
	var g gate
	if err := g.acquire(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.acquire(ctx, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire = %v, want deadline exceeded", err)
	}
	g.release(true)
	if err := g.acquire(context.Background(), true); err != nil {
		t.Fatalf("gate stuck after a timed-out waiter: %v", err)
	}
}

func waitQueued(t *testing.T, g *gate, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue length %d, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}
