package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a slog.Handler that keeps Info-and-above messages, so a test
// can check that the node said what it did.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *recorder) WithGroup(string) slog.Handler                { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}

func (r *recorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := 0
	for _, m := range r.msgs {
		if m == msg {
			c++
		}
	}
	return c
}

func withLogger(h slog.Handler) func(*Config) {
	return func(c *Config) { c.Logger = slog.New(h) }
}

// atAddr makes the node listen on addr (a restarted node keeping its
// address).
func atAddr(t *testing.T, addr string) func(*Config) {
	return func(c *Config) {
		c.Listener.Close()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen on %s again: %v", addr, err)
		}
		c.Listener = ln
	}
}

func withMeta(meta map[string]string) func(*Config) {
	return func(c *Config) {
		c.Meta = meta
		c.MustMatch = []string{"sqlite_version", "entry_format"}
	}
}

func memberOf(t *testing.T, n *testNode, id string) (Member, bool) {
	t.Helper()
	for _, m := range n.Status().Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// join runs JoinCluster for n, failing the test on error.
func join(t *testing.T, n *testNode, voter bool, peers ...string) {
	t.Helper()
	if err := n.JoinCluster(testCtx(t), peers, voter); err != nil {
		t.Fatalf("%s joins via %v: %v", n.id, peers, err)
	}
}

// TestJoinThroughFollowerAndRejoin: a node joins through a follower (which
// redirects to the leader); a node that kept its data and address rejoins
// without changing the configuration.
func TestJoinThroughFollowerAndRejoin(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	n3 := startNode(t, "n3", t.TempDir(), newKV(), false)
	join(t, n2, true, n1.addr)
	join(t, n3, true, "127.0.0.1:1", n2.addr) // a dead peer first, then a follower
	if got := len(n1.Status().Members); got != 3 {
		t.Fatalf("members = %d, want 3", got)
	}
	last := mustPropose(t, n1, "a=1")
	assertSameHistory(t, last, n1, n2, n3)

	// Restart n2 with its data at its address: JoinCluster does not ask the
	// leader, and the leader's own rules also leave it alone.
	sm2, dir2, addr2 := n2.sm, n2.dir, n2.addr
	if err := n2.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	n2 = startNode(t, "n2", dir2, sm2, false, atAddr(t, addr2))
	// The configuration's index, not the last index: on a loaded machine
	// a leader may lose its lease meanwhile, and a new term adds a no-op.
	configIndex := func() uint64 {
		f := n1.raft.GetConfiguration()
		if err := f.Error(); err != nil {
			t.Fatal(err)
		}
		return f.Index()
	}
	before := configIndex()
	join(t, n2, true, n1.addr)
	if err := Join(testCtx(t), nil, []string{n3.addr}, n2.JoinRequest(true), nil); err != nil {
		t.Fatalf("explicit rejoin: %v", err)
	}
	if after := configIndex(); after != before {
		t.Fatalf("configuration index %d -> %d: a rejoin with the same id and address changed the configuration", before, after)
	}
	last = mustPropose(t, n1, "b=2")
	assertSameHistory(t, last, n1, n2, n3)
}

// TestJoinWithNewAddressUpdatesMember: a node that kept its data but
// moved rejoins and the leader replicates to the new address.
func TestJoinWithNewAddressUpdatesMember(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	join(t, n2, true, n1.addr)
	mustPropose(t, n1, "a=1")
	sm2, dir2 := n2.sm, n2.dir
	if err := n2.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	n2 = startNode(t, "n2", dir2, sm2, false) // a new port
	if n2.JoinRequest(true).FreshData {
		t.Fatal("a node restarted with its raft state says FreshData")
	}
	join(t, n2, true, n1.addr)
	if m, ok := memberOf(t, n1, "n2"); !ok || m.Addr != n2.addr || !m.Voter {
		t.Fatalf("n2 in the leader's configuration = %+v, %v; want a voter at %s", m, ok, n2.addr)
	}
	last := mustPropose(t, n1, "b=2")
	assertSameHistory(t, last, n1, n2)
}

// TestJoinAfterDataLossReaddsMember: a node that lost its data rejoins
// with its old id and address; the leader removes and re-adds it, and it
// catches up from scratch.
func TestJoinAfterDataLossReaddsMember(t *testing.T) {
	rec := &recorder{}
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true, withLogger(rec))
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	n3 := startNode(t, "n3", t.TempDir(), newKV(), false)
	join(t, n2, true, n1.addr)
	join(t, n3, true, n1.addr)
	for i := range 5 {
		mustPropose(t, n1, fmt.Sprintf("k%d=%d", i, i))
	}
	addr3 := n3.addr
	if err := n3.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	n3 = startNode(t, "n3", t.TempDir(), newKV(), false, atAddr(t, addr3))
	if !n3.JoinRequest(true).FreshData {
		t.Fatal("a node started on an empty data dir does not say FreshData")
	}
	join(t, n3, true, n2.addr)
	if got := rec.count("member lost its raft state; removing it and adding it anew"); got != 1 {
		t.Fatalf("leader logged the re-add %d times, want 1", got)
	}
	if n3.JoinRequest(true).FreshData {
		t.Fatal("FreshData still set after a successful join")
	}
	last := mustPropose(t, n1, "after=rejoin")
	assertSameHistory(t, last, n1, n2, n3)
	if m, ok := memberOf(t, n1, "n3"); !ok || !m.Voter || m.Addr != addr3 {
		t.Fatalf("n3 in the leader's configuration = %+v, %v", m, ok)
	}
}

// TestJoinRefusedOnBuildMismatch: a node with another SQLite version is
// refused at once with a message naming the difference, and a member
// restarting with another build is refused too.
func TestJoinRefusedOnBuildMismatch(t *testing.T) {
	cluster := map[string]string{"sqlite_version": "3.46.1", "entry_format": "1"}
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true, withMeta(cluster))
	waitLeaderAmong(t, n1)
	other := map[string]string{"sqlite_version": "3.45.0", "entry_format": "1"}
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false, withMeta(other))
	err := n2.JoinCluster(testCtx(t), []string{n1.addr}, true)
	if !errors.Is(err, ErrJoinRefused) || !strings.Contains(err.Error(), `sqlite_version: joining node has "3.45.0", cluster has "3.46.1"`) {
		t.Fatalf("join with another sqlite version = %v, want ErrJoinRefused naming sqlite_version", err)
	}
	if got := len(n1.Status().Members); got != 1 {
		t.Fatalf("members after a refused join = %d, want 1", got)
	}

	n3 := startNode(t, "n3", t.TempDir(), newKV(), false, withMeta(cluster))
	join(t, n3, true, n1.addr)
	mustPropose(t, n1, "a=1")
	sm3, dir3, addr3 := n3.sm, n3.dir, n3.addr
	if err := n3.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	upgraded := map[string]string{"sqlite_version": "3.46.1", "entry_format": "2"}
	n3 = startNode(t, "n3", dir3, sm3, false, atAddr(t, addr3), withMeta(upgraded))
	err = n3.JoinCluster(testCtx(t), []string{n1.addr}, true)
	if !errors.Is(err, ErrJoinRefused) || !strings.Contains(err.Error(), "entry_format") {
		t.Fatalf("member restarting with another entry format = %v, want ErrJoinRefused naming entry_format", err)
	}
}

// TestNonvoterDoesNotCountTowardsQuorum: a nonvoter receives the log, and
// the leader keeps committing while it is down. Rejoining as a voter
// promotes it.
func TestNonvoterDoesNotCountTowardsQuorum(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	join(t, n2, false, n1.addr)
	m, ok := memberOf(t, n1, "n2")
	if !ok || m.Voter || m.Suffrage != "Nonvoter" {
		t.Fatalf("n2 = %+v, %v; want a nonvoter", m, ok)
	}
	last := mustPropose(t, n1, "a=1")
	assertSameHistory(t, last, n1, n2)

	sm2, dir2, addr2 := n2.sm, n2.dir, n2.addr
	if err := n2.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// With n2 as a voter, one of two voters down would stop commits.
	last = mustPropose(t, n1, "b=2")

	n2 = startNode(t, "n2", dir2, sm2, false, atAddr(t, addr2))
	join(t, n2, true, n1.addr)
	if m, _ := memberOf(t, n1, "n2"); !m.Voter {
		t.Fatalf("n2 after rejoining as a voter = %+v", m)
	}
	assertSameHistory(t, last, n1, n2)
}

// TestRemoveMemberFromFollower: a follower forwards the removal to the
// leader.
func TestRemoveMemberFromFollower(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	n3 := startNode(t, "n3", t.TempDir(), newKV(), false)
	join(t, n2, true, n1.addr)
	join(t, n3, true, n1.addr)
	if err := n2.WaitLeader(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := n2.RemoveMember(testCtx(t), "n3"); err != nil {
		t.Fatalf("remove through a follower: %v", err)
	}
	if _, ok := memberOf(t, n1, "n3"); ok {
		t.Fatal("n3 still in the leader's configuration")
	}
	if err := n2.RemoveMember(testCtx(t), "n3"); err != nil {
		t.Fatalf("removing an absent member: %v", err)
	}
	if err := n2.RemoveMember(testCtx(t), ""); err == nil {
		t.Fatal("removing an empty id succeeded")
	}
	mustPropose(t, n1, "a=1")
}

// TestClusterStatusReportsLagAndUnreachable: the leader reports each
// member's applied index and lag, and marks a stopped follower.
func TestClusterStatusReportsLagAndUnreachable(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false)
	n3 := startNode(t, "n3", t.TempDir(), newKV(), false)
	join(t, n2, true, n1.addr)
	join(t, n3, true, n1.addr)
	last := mustPropose(t, n1, "a=1")
	assertSameHistory(t, last, n1, n2, n3)
	if err := n3.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		last = mustPropose(t, n1, fmt.Sprintf("k%d=%d", i, i))
	}
	if err := n2.WaitApplied(testCtx(t), last); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		st := n1.ClusterStatus(testCtx(t))
		byID := map[string]Member{}
		for _, m := range st.Members {
			byID[m.ID] = m
		}
		m1, m2, m3 := byID["n1"], byID["n2"], byID["n3"]
		if !m1.Leader || !m1.Probed || m1.State != "Leader" || m1.Lag != 0 {
			t.Fatalf("leader's own entry = %+v", m1)
		}
		if !m2.Probed || m2.AppliedIndex < last || m2.Lag != 0 || m2.Unreachable {
			t.Fatalf("n2 = %+v, want probed, applied >= %d, no lag", m2, last)
		}
		if m3.Probed || m3.ProbeError == "" {
			t.Fatalf("n3 (stopped) = %+v, want a probe error", m3)
		}
		if m3.Unreachable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n3 never marked unreachable: %+v", m3)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAddMemberLeaderItself: a join that reaches the leader on behalf of
// the leader itself (it restarted and won an election before its own join
// went through) succeeds when it asks for what the leader already is, and
// is refused when it would change the leader's address or suffrage.
func TestAddMemberLeaderItself(t *testing.T) {
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	if err := n1.addMember(testCtx(t), "n1", n1.addr, true, false); err != nil {
		t.Fatalf("the leader joining as what it is: %v", err)
	}
	for _, tc := range []struct {
		addr         string
		voter, fresh bool
	}{
		{"127.0.0.1:1", true, false},
		{n1.addr, false, false},
		{n1.addr, true, true},
	} {
		if err := n1.addMember(testCtx(t), "n1", tc.addr, tc.voter, tc.fresh); err == nil || !strings.Contains(err.Error(), "clashes with the leader itself") {
			t.Errorf("the leader joining at %s voter=%v fresh=%v: %v, want refused", tc.addr, tc.voter, tc.fresh, err)
		}
	}
}
