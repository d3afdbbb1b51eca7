package replica

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// slowStore is a log store whose appends take delay while slow is set: a
// follower busy storing a large entry (megabytes and an fsync).
type slowStore struct {
	logStore
	slow  *atomic.Bool
	delay time.Duration
}

func (s slowStore) StoreLogs(logs []*raft.Log) error {
	if s.slow.Load() {
		time.Sleep(s.delay)
	}
	return s.logStore.StoreLogs(logs)
}

func (s slowStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// TestBusyFollowersKeepTheLeader: followers whose main loop is busy storing
// entries for longer than the leader's lease still answer its heartbeats
// (heartbeat.go), so the leader keeps its lease and its term. Before, every
// large COPY made the leader step down: heartbeats waited behind the
// append in the followers' main loops.
func TestBusyFollowersKeepTheLeader(t *testing.T) {
	lease := DefaultConfig().LeaderLeaseTimeout
	var slow atomic.Bool
	slowDisk := func(c *Config) {
		c.LeaderLeaseTimeout = lease // the production lease, not testConfig's
		c.wrapLogStore = func(s logStore) logStore { return slowStore{s, &slow, 2 * lease} }
	}
	n1 := startNode(t, "n1", t.TempDir(), newKV(), true)
	waitLeaderAmong(t, n1)
	n2 := startNode(t, "n2", t.TempDir(), newKV(), false, slowDisk)
	n3 := startNode(t, "n3", t.TempDir(), newKV(), false, slowDisk)
	join(t, n2, true, n1.addr)
	join(t, n3, true, n1.addr)
	if waitLeaderAmong(t, n1, n2, n3) != n1 {
		t.Skip("leadership moved while the cluster formed")
	}
	mustPropose(t, n1, "warm=1")
	term := n1.raft.CurrentTerm()
	slow.Store(true)
	for i := range 4 {
		if _, _, err := n1.Propose(testCtx(t), []byte("k=v")); err != nil {
			t.Fatalf("entry %d with the followers' disks slow: %v", i, err)
		}
	}
	slow.Store(false)
	if !n1.IsLeader() || n1.raft.CurrentTerm() != term {
		t.Fatalf("after four appends of %v on both followers the leader is %v in term %d, was leader in term %d",
			2*lease, n1.IsLeader(), n1.raft.CurrentTerm(), term)
	}
	last := mustPropose(t, n1, "after=1")
	assertSameHistory(t, last, n1, n2, n3)
}
