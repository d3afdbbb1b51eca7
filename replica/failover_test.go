package replica

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// crash stops n the way kill -9 would look to its peers: its port and
// every connection close at once, and it hands nothing over.
func crash(t *testing.T, n *testNode) {
	t.Helper()
	n.shutdownOnce.Do(func() {
		_ = n.mux.close()
		n.shutdownErr = n.shutdown(context.Background(), false)
	})
	if n.shutdownErr != nil {
		t.Fatalf("crash %s: %v", n.id, n.shutdownErr)
	}
}

// lanTimeouts sets DefaultConfig's LAN timings, which the failover figures
// are measured with (testConfig's are shorter).
func lanTimeouts(c *Config) {
	d := DefaultConfig()
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
}

// threeNodes starts a three-voter cluster, n1 bootstrapping.
func threeNodes(t *testing.T, mod ...func(*Config)) []*testNode {
	t.Helper()
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true, mod...)
	waitLeaderAmong(t, n1)
	nodes := []*testNode{n1}
	for _, id := range []string{"n2", "n3"} {
		n := startNode(t, id, t.TempDir(), newKV(), false, mod...)
		join(t, n, true, n1.addr)
		nodes = append(nodes, n)
	}
	return nodes
}

// firstWrite proposes on whichever node accepts, until one does, and
// returns when. It polls: this measures time to the first accepted write,
// as a client retrying would see it.
func firstWrite(t *testing.T, cmd string, nodes ...*testNode) *testNode {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _, err := n.Propose(ctx, []byte(cmd))
			cancel()
			if err == nil {
				return n
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("no node accepted a write")
	return nil
}

// splitLeader waits for a leader among nodes and returns it and the others.
func splitLeader(t *testing.T, nodes []*testNode) (*testNode, []*testNode) {
	t.Helper()
	leader := waitLeaderAmong(t, nodes...)
	var rest []*testNode
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	return leader, rest
}

// TestFailoverTiming kills the leader of a three-node cluster ten times
// (no leadership transfer: its port closes abruptly) and logs the time to
// the first write a survivor accepts. It asserts only that failover
// happens and that the restarted node catches up; the figures depend on
// the machine's load.
func TestFailoverTiming(t *testing.T) {
	nodes := threeNodes(t, lanTimeouts)
	const trials = 10
	var took []time.Duration
	for trial := range trials {
		leader, rest := splitLeader(t, nodes)
		start := time.Now()
		crash(t, leader)
		winner := firstWrite(t, fmt.Sprintf("trial%d=1", trial), rest...)
		took = append(took, time.Since(start))

		// Bring the old leader back with its data at its address, and wait
		// until it has caught up before the next trial.
		back := startNode(t, leader.id, leader.dir, leader.sm, false, lanTimeouts, atAddr(t, leader.addr))
		last := mustPropose(t, winner, fmt.Sprintf("rejoined%d=1", trial))
		if err := back.WaitApplied(testCtx(t), last); err != nil {
			t.Fatal(err)
		}
		for i, n := range nodes {
			if n == leader {
				nodes[i] = back
			}
		}
	}
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	d := DefaultConfig()
	t.Logf("kill -9 of the leader -> first accepted write, heartbeat %v, election %v, %d trials: median %v, min %v, max %v, all %v",
		d.HeartbeatTimeout, d.ElectionTimeout, len(sorted), sorted[len(sorted)/2], sorted[0], sorted[len(sorted)-1], took)
}

// TestGracefulShutdownTransfersLeadership: a leader that shuts down hands
// leadership to another voter first.
func TestGracefulShutdownTransfersLeadership(t *testing.T) {
	rec := &recorder{}
	nodes := threeNodes(t, lanTimeouts, withLogger(rec))
	old, rest := splitLeader(t, nodes)
	term := old.Term()
	if err := old.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := rec.count("transferred leadership before shutdown"); got != 1 {
		t.Fatalf("leadership transfers logged = %d, want 1", got)
	}
	leader := waitLeaderAmong(t, rest...)
	if leader.Term() <= term {
		t.Fatalf("new leader's term %d, want > %d", leader.Term(), term)
	}
	mustPropose(t, leader, "after=transfer")
}

// TestSnapshotTruncatesLogAndFollowerCatchesUp: with a small
// SnapshotThreshold raft snapshots on its own and drops the log behind
// TrailingLogs; a follower that was down past that point catches up from
// the snapshot plus the log tail.
func TestSnapshotTruncatesLogAndFollowerCatchesUp(t *testing.T) {
	compact := func(c *Config) {
		c.SnapshotThreshold = 20
		c.SnapshotInterval = 50 * time.Millisecond
		c.TrailingLogs = 5
		c.WALSegmentSize = 1024 // small segments, so that compaction really drops the log
	}
	nodes := threeNodes(t, compact)
	n1, n3 := nodes[0], nodes[2]
	last := mustPropose(t, n1, "a=1")
	assertSameHistory(t, last, nodes...)
	missedFrom := n3.LastIndex()
	sm3, dir3, addr3 := n3.sm, n3.dir, n3.addr
	if err := n3.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		last = mustPropose(t, n1, fmt.Sprintf("k%d=%d", i, i))
	}
	// Wait for raft's own snapshot and compaction past what n3 has.
	deadline := time.Now().Add(waitTimeout)
	for {
		first, err := n1.store.FirstIndex()
		if err != nil {
			t.Fatal(err)
		}
		if first > missedFrom+1 && n1.Status().LastSnapshotIndex > missedFrom {
			t.Logf("leader's log starts at %d, n3 stopped at %d, snapshot at %d", first, missedFrom, n1.Status().LastSnapshotIndex)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never truncated: first index %d, snapshot %d", first, n1.Status().LastSnapshotIndex)
		}
		time.Sleep(20 * time.Millisecond)
	}
	restores := sm3.restoreCount()
	n3 = startNode(t, "n3", dir3, sm3, false, compact, atAddr(t, addr3))
	join(t, n3, true, n1.addr)
	last = mustPropose(t, n1, "after=catchup")
	assertSameHistory(t, last, n1, n3)
	// Raft may send more than one snapshot while the leader keeps
	// compacting; at least one is needed, as the entries n3 missed are gone.
	if got := sm3.restoreCount(); got <= restores {
		t.Fatal("n3 caught up without restoring a snapshot, but the log it missed was truncated")
	}
}
