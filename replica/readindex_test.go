package replica

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestReadIndexSingleNode(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n)
	idx := mustPropose(t, n, "a=1")
	got, err := n.ReadIndex(testCtx(t))
	if err != nil {
		t.Fatalf("ReadIndex: %v", err)
	}
	if got < idx {
		t.Fatalf("ReadIndex = %d, below the acknowledged write at %d", got, idx)
	}
	if !n.LeaderReady() {
		t.Fatalf("leader answered a read index but is not ready in term %d", n.Term())
	}
}

// TestReadIndexFromFollowers: a follower's read index covers every write
// acknowledged before it asked, and once applied the write is visible.
func TestReadIndexFromFollowers(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	ctx := testCtx(t)
	for i, f := range rest {
		idx := mustPropose(t, leader, "k"+string(rune('0'+i))+"=v")
		got, err := f.ReadIndex(ctx)
		if err != nil {
			t.Fatalf("ReadIndex on %s: %v", f.id, err)
		}
		if got < idx {
			t.Fatalf("ReadIndex on %s = %d, below acknowledged write %d", f.id, got, idx)
		}
		if err := f.WaitApplied(ctx, got); err != nil {
			t.Fatal(err)
		}
		if v, ok := f.sm.get("k" + string(rune('0'+i))); !ok || v != "v" {
			t.Fatalf("%s after waiting for the read index: %q, %v", f.id, v, ok)
		}
	}
}

// TestReadIndexFollowerRedirects: a follower asked directly answers where
// the leader is, and the leader answers with an index.
func TestReadIndexFollowerRedirects(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	ctx := testCtx(t)
	if err := rest[0].WaitLeader(ctx); err != nil { // a fresh joiner may not know it yet
		t.Fatal(err)
	}
	resp, err := leader.callReadIndex(ctx, rest[0].addr)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != codeNotLeader || resp.LeaderAddr != leader.addr {
		t.Fatalf("follower answered %+v, want not_leader naming %s", resp, leader.addr)
	}
	idx := mustPropose(t, leader, "x=1")
	resp, err = rest[0].callReadIndex(ctx, leader.addr)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != codeOK || resp.Index < idx {
		t.Fatalf("leader answered %+v, want ok with index >= %d", resp, idx)
	}
}

// TestReadIndexPooledConnections: a follower's read-index requests reuse
// one connection to the leader, and one the leader closed meanwhile (as it
// does with idle ones) is replaced without failing the read.
func TestReadIndexPooledConnections(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	f := rest[0]
	ctx := testCtx(t)
	if err := f.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	idle := func() []net.Conn {
		f.riPool.mu.Lock()
		defer f.riPool.mu.Unlock()
		return append([]net.Conn(nil), f.riPool.idle...)
	}
	for range 3 {
		if _, err := f.ReadIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	conns := idle()
	if len(conns) != 1 {
		t.Fatalf("%d idle connections after 3 sequential reads, want 1", len(conns))
	}
	conns[0].Close() // as if the leader had closed it
	idx := mustPropose(t, leader, "y=1")
	got, err := f.ReadIndex(ctx)
	if err != nil {
		t.Fatalf("read index after the pooled connection died: %v", err)
	}
	if got < idx {
		t.Fatalf("read index %d below acknowledged write %d", got, idx)
	}
	if n := len(idle()); n != 1 {
		t.Fatalf("%d idle connections, want the replacement only", n)
	}
}

// TestReadIndexNeedsQuorum: a leader cut off from its quorum cannot hand
// out a read index (it trusts no lease), and its followers' requests fail
// within their deadline.
func TestReadIndexNeedsQuorum(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	mustPropose(t, leader, "a=1")
	for _, f := range rest {
		crash(t, f)
	}
	// An acknowledgement a follower sent just before it stopped may still
	// be on its way, and VerifyLeader counts it; once the leader has seen a
	// heartbeat to each fail (or stepped down), none is.
	waitUnreachable(t, leader, rest...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if idx, err := leader.ReadIndex(ctx); err == nil {
		t.Fatalf("ReadIndex without a quorum returned %d", idx)
	}
	if d := time.Since(start); d > 5*time.Second+time.Second {
		t.Fatalf("ReadIndex took %v", d)
	}
}

// waitUnreachable waits until leader has seen a heartbeat to each of nodes
// fail, or no longer leads.
func waitUnreachable(t *testing.T, leader *testNode, nodes ...*testNode) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		st := leader.Status()
		down := 0
		for _, m := range st.Members {
			for _, n := range nodes {
				if m.ID == n.id && m.Unreachable {
					down++
				}
			}
		}
		if down == len(nodes) || !leader.IsLeader() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the leader never saw its followers' heartbeats fail")
}

// TestReadIndexAfterFailover: a new leader's read index covers what the
// old leader acknowledged, which it only knows is committed after its own
// barrier.
func TestReadIndexAfterFailover(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	var idx uint64
	for _, kv := range []string{"a=1", "b=2", "c=3"} {
		idx = mustPropose(t, leader, kv)
	}
	crash(t, leader)
	newLeader, others := splitLeader(t, rest)
	ctx := testCtx(t)
	for _, n := range []*testNode{others[0], newLeader} {
		got, err := readIndexRetrying(ctx, n)
		if err != nil {
			t.Fatalf("ReadIndex on %s: %v", n.id, err)
		}
		if got < idx {
			t.Fatalf("ReadIndex on %s = %d after failover, below acknowledged %d", n.id, got, idx)
		}
	}
	if !newLeader.LeaderReady() {
		t.Fatalf("new leader served a read index without its barrier (term %d)", newLeader.Term())
	}
}

// readIndexRetrying retries while a follower still names a leader that
// just crashed (it learns the new one at the next heartbeat).
func readIndexRetrying(ctx context.Context, n *testNode) (uint64, error) {
	for {
		got, err := n.ReadIndex(ctx)
		if err == nil || ctx.Err() != nil {
			return got, err
		}
		select {
		case <-n.leaderChanged():
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return 0, errors.Join(err, ctx.Err())
		}
	}
}

func TestReadIndexByteIsTaken(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), newKV(), true)
	if err := n.HandleRPC(ReadIndexRPCByte, func(net.Conn) {}); err == nil {
		t.Fatal("HandleRPC let the read-index byte be taken")
	}
}

func TestLastContact(t *testing.T) {
	nodes := threeNodes(t)
	leader, rest := splitLeader(t, nodes)
	if since := time.Since(leader.LastContact()); since > time.Second {
		t.Fatalf("leader's LastContact is %v old", since)
	}
	idx := mustPropose(t, leader, "a=1")
	for _, f := range rest {
		if err := f.WaitApplied(testCtx(t), idx); err != nil { // it has heard from the leader
			t.Fatal(err)
		}
		lc := f.LastContact()
		if lc.IsZero() || time.Since(lc) > 5*time.Second {
			t.Fatalf("follower %s LastContact = %v", f.id, lc)
		}
	}
}
