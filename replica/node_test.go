package replica

import (
	"github.com/hashicorp/raft"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// waitTimeout is generous: it only fires when something hangs.
const waitTimeout = 20 * time.Second

// testNode is a Node with its toy state machine and data dir, so a test can
// reopen it.
type testNode struct {
	*Node
	id  string
	dir string
	sm  *kv
}

// tWriter sends log output to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testConfig(t *testing.T, id, dir string, bootstrap bool) Config {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.NodeID, c.DataDir, c.Listener, c.Bootstrap = id, dir, ln, bootstrap
	// Fast but not flappy on a loaded 2-core machine under -race.
	c.HeartbeatTimeout = 200 * time.Millisecond
	c.ElectionTimeout = 200 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.MaxEntrySize = 1024
	c.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return c
}

// startNode opens a node; t.Cleanup shuts it down (a no-op if the test did).
func startNode(t *testing.T, id, dir string, sm *kv, bootstrap bool, mod ...func(*Config)) *testNode {
	t.Helper()
	cfg := testConfig(t, id, dir, bootstrap)
	for _, m := range mod {
		m(&cfg)
	}
	n, err := Open(cfg, sm)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	t.Cleanup(func() {
		if err := n.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown %s: %v", id, err)
		}
	})
	return &testNode{Node: n, id: id, dir: dir, sm: sm}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitLeaderAmong returns the node among nodes that is the leader, once
// one of them is. Polling is fine here: this is a condition wait in a test
// and the deadline only fires on a hang.
func waitLeaderAmong(t *testing.T, nodes ...*testNode) *testNode {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n.IsLeader() {
				return n
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no leader elected")
	return nil
}

func mustPropose(t *testing.T, n *testNode, cmd string) uint64 {
	t.Helper()
	idx, resp, err := n.Propose(testCtx(t), []byte(cmd))
	if err != nil {
		t.Fatalf("propose %q on %s: %v", cmd, n.id, err)
	}
	if want := "set " + strings.SplitN(cmd, "=", 2)[0]; resp != want {
		t.Fatalf("propose %q: response %v, want %q", cmd, resp, want)
	}
	return idx
}

func TestSingleNodeProposeAndRestart(t *testing.T) {
	dir, sm := t.TempDir(), newKV()
	n := startNode(t, "n1", dir, sm, true)
	ctx := testCtx(t)
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	leaderNow := make(chan bool, 8)
	n.OnLeadershipChange(func(isLeader bool) { leaderNow <- isLeader })
	waitLeaderAmong(t, n)
	waitCallback(t, leaderNow, true)

	idx := mustPropose(t, n, "a=1")
	if v, _ := sm.get("a"); v != "1" || n.AppliedIndex() < idx {
		t.Fatalf("after propose: a=%q applied=%d, want a=1 applied>=%d", v, n.AppliedIndex(), idx)
	}
	_, resp, err := n.Propose(ctx, []byte("malformed"))
	if err != nil || resp == nil || !strings.Contains(fmt.Sprint(resp), "malformed") {
		t.Fatalf("propose of a bad command = %v, %v; want the data error as response", resp, err)
	}
	last := mustPropose(t, n, "b=2")
	if _, _, err := n.Propose(ctx, make([]byte, 2000)); !errors.Is(err, ErrTooLarge) || IsAmbiguous(err) {
		t.Fatalf("oversized propose = %v, want definite ErrTooLarge", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := n.Propose(canceled, []byte("c=3")); !errors.Is(err, context.Canceled) || IsAmbiguous(err) {
		t.Fatalf("propose with a canceled ctx = %v, want definite context.Canceled", err)
	}
	st := n.Status()
	if st.State != "Leader" || st.LeaderID != "n1" || len(st.Members) != 1 || !st.Members[0].Voter || st.AppliedIndex < last {
		t.Fatalf("status = %+v", st)
	}
	history := sm.snapshotHistory()

	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	if _, _, err := n.Propose(ctx, []byte("c=3")); !errors.Is(err, ErrShutdown) || IsAmbiguous(err) {
		t.Fatalf("propose after shutdown = %v, want definite ErrShutdown", err)
	}

	// Reopen on the same data dir with the same (durable) state machine:
	// raft replays its log, the state machine skips what it has applied.
	n2 := startNode(t, "n1", dir, sm, true)
	waitLeaderAmong(t, n2)
	if err := n2.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sm.snapshotHistory(); !slices.Equal(got, history) {
		t.Fatalf("history after restart = %v, want unchanged %v (an entry was applied twice)", got, history)
	}
	idx = mustPropose(t, n2, "c=3")
	if idx <= last {
		t.Fatalf("index after restart = %d, want > %d", idx, last)
	}
	if got := sm.snapshotHistory(); len(got) != len(history)+1 {
		t.Fatalf("history after a new propose = %v", got)
	}
}

func waitCallback(t *testing.T, ch <-chan bool, want bool) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-timeout:
			t.Fatalf("OnLeadershipChange never reported %v", want)
		}
	}
}

func TestRestartRestoresSnapshotWhenStateMachineIsBehind(t *testing.T) {
	dir, sm := t.TempDir(), newKV()
	n := startNode(t, "n1", dir, sm, true)
	waitLeaderAmong(t, n)
	for i := range 5 {
		mustPropose(t, n, fmt.Sprintf("k%d=%d", i, i))
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	mustPropose(t, n, "after=snapshot")
	if err := n.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	// The node's own snapshot is a reference to its state machine: one
	// that lost its data (applied index 0) is behind it, and the log
	// before it is gone, so the node refuses to start and says why.
	if n, err := Open(testConfig(t, "n1", dir, false), newKV()); err == nil {
		n.Shutdown(testCtx(t))
		t.Fatal("Open with a state machine behind its snapshot reference succeeded")
	} else if !strings.Contains(err.Error(), "behind the index") {
		t.Fatalf("Open with a state machine behind its snapshot reference: %v", err)
	}

	// A full snapshot (as a follower stores one the leader sent) is
	// restored on open when the state machine is behind it.
	writeFullSnapshot(t, dir, sm)
	behind := newKV()
	n2 := startNode(t, "n1", dir, behind, false)
	if behind.restoreCount() != 1 {
		t.Fatalf("restores on open = %d, want 1", behind.restoreCount())
	}
	waitLeaderAmong(t, n2)
	if err := n2.Barrier(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := behind.snapshotHistory(), sm.snapshotHistory(); !slices.Equal(got, want) {
		t.Fatalf("history after restore + replay = %v, want %v", got, want)
	}
	if err := n2.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	// The same state machine is now past the snapshot: no restore.
	n3 := startNode(t, "n1", dir, behind, false)
	if behind.restoreCount() != 1 {
		t.Fatalf("restores on reopen = %d, want still 1", behind.restoreCount())
	}
	waitLeaderAmong(t, n3)
	mustPropose(t, n3, "again=1")
}

// writeFullSnapshot replaces the newest snapshot in dir (a reference) with a
// full copy of sm under the same index, term and configuration.
func writeFullSnapshot(t *testing.T, dir string, sm *kv) {
	t.Helper()
	files, err := raft.NewFileSnapshotStore(dir, snapshotsRetained, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	metas, err := files.List()
	if err != nil || len(metas) == 0 {
		t.Fatalf("list snapshots: %v (%d)", err, len(metas))
	}
	m := metas[0]
	_, trans := raft.NewInmemTransport("") // encodes the (legacy) peer list
	sink, err := files.Create(m.Version, m.Index, m.Term, m.Configuration, m.ConfigurationIndex, trans)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestThreeNodeCluster covers joining, replication in order on every node,
// proposals on a follower, and failover after the leader shuts down.
func TestThreeNodeCluster(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	n3 := startNode(t, "n3", t.TempDir(), newKV(), false)
	ctx := testCtx(t)
	waitLeaderAmong(t, n1)
	for _, n := range []*testNode{n2, n3} {
		if err := n1.AddVoter(ctx, n.id, n.addr); err != nil {
			t.Fatal(err)
		}
	}
	if err := n1.AddVoter(ctx, "n2", n2.addr); err != nil {
		t.Fatalf("adding a present voter again: %v", err)
	}
	if got := len(n1.Status().Members); got != 3 {
		t.Fatalf("members = %d, want 3", got)
	}
	var last uint64
	for i := range 10 {
		last = mustPropose(t, n1, fmt.Sprintf("k%d=v%d", i, i))
	}
	assertSameHistory(t, last, n1, n2, n3)

	for _, f := range []*testNode{n2, n3} {
		if err := f.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		if id, addr := f.Leader(); id != "n1" || addr != n1.addr {
			t.Fatalf("%s sees leader %s at %s, want n1 at %s", f.id, id, addr, n1.addr)
		}
		_, _, err := f.Propose(ctx, []byte("x=1"))
		if !errors.Is(err, ErrNotLeader) || IsAmbiguous(err) {
			t.Fatalf("propose on follower %s = %v, want definite ErrNotLeader", f.id, err)
		}
	}

	became := make(chan string, 4)
	for _, f := range []*testNode{n2, n3} {
		f.OnLeadershipChange(func(isLeader bool) {
			if isLeader {
				became <- f.id
			}
		})
	}
	if err := n1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	leader := waitLeaderAmong(t, n2, n3)
	select {
	case id := <-became:
		if id != leader.id {
			t.Fatalf("OnLeadershipChange reported %s, leader is %s", id, leader.id)
		}
	case <-ctx.Done():
		t.Fatal("OnLeadershipChange never reported the new leader")
	}
	last = mustPropose(t, leader, "after=failover")
	assertSameHistory(t, last, n2, n3)
	if n2.Term() <= 1 && n3.Term() <= 1 {
		t.Fatalf("terms %d, %d: want a new term after failover", n2.Term(), n3.Term())
	}
}

// assertSameHistory waits until every node applied index, then compares
// what their state machines applied, in order.
func assertSameHistory(t *testing.T, index uint64, nodes ...*testNode) {
	t.Helper()
	for _, n := range nodes {
		if err := n.WaitApplied(testCtx(t), index); err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
	}
	want := nodes[0].sm.snapshotHistory()
	for _, n := range nodes[1:] {
		if got := n.sm.snapshotHistory(); !slices.Equal(got, want) {
			t.Fatalf("%s applied %v, %s applied %v", n.id, got, nodes[0].id, want)
		}
	}
}

// TestJoinInstallsSnapshot: a node joining after the log was compacted gets
// the leader's snapshot, then the entries after it.
func TestJoinInstallsSnapshot(t *testing.T) {
	// Small WAL segments, so that compaction really drops the log.
	shortLog := func(c *Config) { c.TrailingLogs, c.WALSegmentSize = 1, 1024 }
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true, shortLog)
	ctx := testCtx(t)
	waitLeaderAmong(t, n1)
	for i := range 20 {
		mustPropose(t, n1, fmt.Sprintf("k%d=%d", i, i))
	}
	if err := n1.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if st := n1.Status(); st.LastSnapshotIndex == 0 {
		t.Fatalf("status after snapshot = %+v, want LastSnapshotIndex > 0", st)
	}

	n2 := startNode(t, "n2", t.TempDir(), newKV(), false, shortLog)
	if err := n1.AddVoter(ctx, "n2", n2.addr); err != nil {
		t.Fatal(err)
	}
	last := mustPropose(t, n1, "after=join")
	assertSameHistory(t, last, n1, n2)
	if n2.sm.restoreCount() != 1 {
		t.Fatalf("n2 restored %d snapshots, want 1 (the log before it was compacted)", n2.sm.restoreCount())
	}
	if v, _ := n2.sm.get("k19"); v != "19" {
		t.Fatalf("n2 k19 = %q, want 19", v)
	}
}

// TestNodeRPCSharesRaftPort: a handler registered on one node receives a
// connection another node dials to the same port Raft uses.
func TestNodeRPCSharesRaftPort(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	if err := n1.HandleRPC('Q', func(c net.Conn) { _, _ = io.Copy(c, c) }); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	c, err := n2.DialRPC(ctx, n1.addr, 'Q')
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
	// Raft still works on the same port.
	waitLeaderAmong(t, n1)
	if err := n1.AddVoter(ctx, "n2", n2.addr); err != nil {
		t.Fatal(err)
	}
	assertSameHistory(t, mustPropose(t, n1, "a=1"), n1, n2)
}

// TestOpenRefusesStateWithoutRaftLog: a state machine that has applied
// entries cannot start on an empty Raft directory, or it would skip the
// first entries of whatever log it is sent.
func TestOpenRefusesStateWithoutRaftLog(t *testing.T) {
	sm := newKV()
	sm.ApplyBatch([]Command{{Index: 1, Term: 1, Data: []byte("a=1")}})
	_, err := Open(testConfig(t, "n1", t.TempDir(), true), sm)
	if err == nil || !strings.Contains(err.Error(), "no raft state") {
		t.Fatalf("Open = %v, want a refusal naming the missing raft state", err)
	}
}

func TestOpenFailsWhileDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	startNode(t, "n1", dir, newKV(), true)
	_, err := Open(testConfig(t, "n1", dir, true), newKV())
	if !errors.Is(err, errDirLocked) {
		t.Fatalf("second Open on the same data dir = %v, want %v", err, errDirLocked)
	}
}

// TestRestartOnSnapshotTakenAtNoop: a snapshot taken right after a new
// term's no-op and a barrier carries the barrier's index, beyond the last
// command, which raft never hands to the state machine. A node that
// restores it on start used to refuse to start ("state machine reports
// applied index below the snapshot's").
func TestRestartOnSnapshotTakenAtNoop(t *testing.T) {
	dir, sm := t.TempDir(), newKV()
	n := startNode(t, "n1", dir, sm, true)
	waitLeaderAmong(t, n)
	last := mustPropose(t, n, "a=1")
	if err := n.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, "n1", dir, sm, false) // a new term: its leader appends a no-op
	waitLeaderAmong(t, n2)
	if err := n2.Barrier(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := n2.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snap := n2.lastSnapshotIndex()
	if snap <= last {
		t.Fatalf("snapshot index %d, want past the last command %d (the no-op's)", snap, last)
	}
	if err := n2.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// The snapshot references the state machine's own index (the last
	// command's), below the snapshot's: the state machine holds it.
	n3 := startNode(t, "n1", dir, sm, false)
	if sm.restoreCount() != 0 {
		t.Fatalf("restores on open = %d, want 0", sm.restoreCount())
	}
	waitLeaderAmong(t, n3)
	mustPropose(t, n3, "b=2")
	if err := n3.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	// A full snapshot at the no-op's index restores a state machine that
	// lost its data, though its own index stays below the snapshot's.
	writeFullSnapshot(t, dir, sm)
	behind := newKV()
	n4 := startNode(t, "n1", dir, behind, false)
	if behind.restoreCount() != 1 {
		t.Fatalf("restores on open = %d, want 1", behind.restoreCount())
	}
	waitLeaderAmong(t, n4)
	mustPropose(t, n4, "c=3")
}
