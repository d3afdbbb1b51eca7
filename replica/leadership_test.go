package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestWaitLeaderReady: the leader becomes ready, followers are told at once
// that they do not lead, and a stopped node says so.
func TestWaitLeaderReady(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	ctx := testCtx(t)
	if err := leader.WaitLeaderReady(ctx); err != nil {
		t.Fatalf("WaitLeaderReady on the leader: %v", err)
	}
	if !leader.LeaderReady() {
		t.Fatal("LeaderReady is false after WaitLeaderReady returned")
	}
	for _, f := range rest {
		// A context that is already done proves the answer does not wait.
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if err := f.WaitLeaderReady(done); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("WaitLeaderReady on follower %s = %v, want ErrNotLeader", f.id, err)
		}
		if f.LeaderReady() {
			t.Fatalf("follower %s reports LeaderReady", f.id)
		}
	}
	crash(t, rest[0])
	if err := rest[0].WaitLeaderReady(ctx); !errors.Is(err, ErrShutdown) {
		t.Fatalf("WaitLeaderReady after shutdown = %v, want ErrShutdown", err)
	}
}

// TestWaitLeaderReadyAfterFailover: once a new leader is ready, it has
// applied every write acknowledged in earlier terms, without waiting for
// anything else.
func TestWaitLeaderReadyAfterFailover(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	var idx uint64
	for i := range 20 {
		idx = mustPropose(t, leader, fmt.Sprintf("k%d=v%d", i, i))
	}
	crash(t, leader)
	newLeader := waitReady(t, rest...)
	if got := newLeader.AppliedIndex(); got < idx {
		t.Fatalf("new leader ready at applied index %d, below acknowledged %d", got, idx)
	}
	for i := range 20 {
		if v, ok := newLeader.sm.get(fmt.Sprintf("k%d", i)); !ok || v != fmt.Sprintf("v%d", i) {
			t.Fatalf("new leader ready without k%d: %q, %v", i, v, ok)
		}
	}
}

// waitReady returns the node among nodes that leads and is ready, once one
// is (an election may still be going on).
func waitReady(t *testing.T, nodes ...*testNode) *testNode {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := n.WaitLeaderReady(ctx)
			cancel()
			if err == nil {
				return n
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no node became a ready leader")
	return nil
}
