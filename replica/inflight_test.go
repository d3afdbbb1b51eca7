package replica

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInflightBudget(t *testing.T) {
	f := newInflight(100)
	ctx := context.Background()
	if err := f.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	// 60 more does not fit: it waits until the first 60 go.
	got := make(chan error, 1)
	go func() { got <- f.acquire(ctx, 60) }()
	select {
	case err := <-got:
		t.Fatalf("acquire beyond the budget returned %v, want it to wait", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.release(60)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// A waiter whose context ends gives up and takes nothing.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := f.acquire(short, 60); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire with an ending context: %v", err)
	}
	if n := f.bytes(); n != 60 {
		t.Fatalf("in flight %d, want 60", n)
	}
	f.release(60)
	// Larger than the whole budget: admitted alone.
	if err := f.acquire(ctx, 150); err != nil {
		t.Fatal(err)
	}
	f.release(150)
	if n := f.bytes(); n != 0 {
		t.Fatalf("in flight %d after every release, want 0", n)
	}
}

// TestProposalsWaitForInflightRoom: an entry handed to raft holds its bytes
// until its Wait returns; a proposal that does not fit waits, and one whose
// context ends meanwhile fails as not appended. Concurrent proposals beyond
// the budget all go through, a few at a time.
func TestProposalsWaitForInflightRoom(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), newKV(), true, func(c *Config) { c.MaxInflightBytes = 1000 })
	waitLeaderAmong(t, n)
	cmd := func(k string) []byte { return []byte(k + "=" + strings.Repeat("x", 598-len(k))) } // 600 bytes

	p, err := n.Enqueue(testCtx(t), cmd("a"))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := n.Enqueue(short, cmd("b")); !errors.Is(err, context.DeadlineExceeded) || IsAmbiguous(err) {
		t.Fatalf("enqueue beyond the budget: %v (ambiguous %v), want a deadline, not appended", err, IsAmbiguous(err))
	}
	if _, _, err := p.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := n.inflight.bytes(); got != 0 {
		t.Fatalf("in flight after Wait: %d", got)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := n.Propose(testCtx(t), cmd(fmt.Sprintf("k%d", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := n.inflight.bytes(); got != 0 {
		t.Fatalf("in flight after every proposal: %d", got)
	}
	if _, ok := n.sm.get("k7"); !ok {
		t.Fatal("k7 was not applied")
	}
}
