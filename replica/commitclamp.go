package replica

import (
	"sync"

	"github.com/hashicorp/raft"
)

// commitclamp.go closes a hole in hashicorp/raft's follower: on an
// AppendEntries it sets its commit index to min(LeaderCommitIndex, its own
// last index), where the Raft paper (Figure 2, AppendEntries receiver, rule
// 5) says min(leaderCommit, index of last new entry). The difference matters
// for a deposed leader that still holds entries of its old term past the
// request's entries: a request whose entries stop short of them (capped by
// MaxAppendEntries, or built empty from a last index read just before a new
// commit index) lets it commit, and apply, those stale entries, which the
// new leader's log does not have. A leader paused (SIGSTOP) through an
// election does exactly that when it wakes: it applies the insert it had
// appended, where the others have the new leader's no-op at that index.
// (The same bug, fixed the same way: atomix/copycat#265.)
//
// It also keeps raft's heartbeat fast path off (SetHeartbeatHandler).
//
// clampTransport relays the transport's RPCs to raft and lowers
// LeaderCommitIndex to the index of the request's last entry (PrevLogEntry
// when it has none); the follower then commits only entries this request
// has shown to match the leader's log, and later requests carry it further.

// clampTransport is a NetworkTransport whose AppendEntries requests reach
// raft with LeaderCommitIndex clamped. Its relay goroutine is owned by the
// transport and ends in Close.
type clampTransport struct {
	*raft.NetworkTransport
	hb   heartbeats // answered at once when nothing in raft changes (heartbeat.go)
	out  chan raft.RPC
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newClampTransport(t *raft.NetworkTransport) *clampTransport {
	c := &clampTransport{NetworkTransport: t, out: make(chan raft.RPC), done: make(chan struct{})}
	c.hb.toLoop = make(chan raft.RPC, 1)
	c.wg.Add(2)
	go c.relay()
	go c.relayHeartbeats()
	return c
}

// answerHeartbeatsFor turns on the heartbeat fast path for r, this node's
// raft (id at addr).
func (c *clampTransport) answerHeartbeatsFor(r *raft.Raft, id raft.ServerID, addr raft.ServerAddress) {
	c.hb.view.Store(&heartbeatView{r: r, id: id, addr: addr})
}

// relayHeartbeats hands the copies of heartbeats answered by the fast path
// to raft's main loop.
func (c *clampTransport) relayHeartbeats() {
	defer c.wg.Done()
	for {
		select {
		case rpc := <-c.hb.toLoop:
			select {
			case c.out <- rpc:
			case <-c.done:
				return
			}
		case <-c.done:
			return
		}
	}
}

// SetHeartbeatHandler implements raft.Transport by refusing raft's
// heartbeat fast path: heartbeats then reach raft's main loop like every
// other RPC. The fast path runs appendEntries on the transport's goroutine,
// concurrently with the leader loop; a heartbeat of a newer term there sets
// the current term while a deposed leader that just woke up (SIGSTOP) is
// about to dispatch a client's entry, and dispatchLogs stamps the entry
// with the term it reads then: the new leader's. The new leader's entry at
// that index has the same term, so the deposed leader never sees the
// conflict, keeps its own entry, and applies it once the index commits:
// its data diverges, and writes acknowledged by the new leader are missing
// on it.
func (c *clampTransport) SetHeartbeatHandler(func(rpc raft.RPC)) {}

// Consumer implements raft.Transport: the clamped stream of RPCs.
func (c *clampTransport) Consumer() <-chan raft.RPC { return c.out }

// Close implements raft.WithClose: it stops the relay and closes the
// underlying transport. Safe to call more than once.
func (c *clampTransport) Close() error {
	c.once.Do(func() { close(c.done) })
	err := c.NetworkTransport.Close()
	c.wg.Wait()
	return err
}

func (c *clampTransport) relay() {
	defer c.wg.Done()
	in := c.NetworkTransport.Consumer()
	for {
		select {
		case rpc := <-in:
			if req, ok := rpc.Command.(*raft.AppendEntriesRequest); ok {
				if isHeartbeat(req) && c.hb.answer(rpc, req) {
					continue
				}
				clampCommit(req)
			}
			select {
			case c.out <- rpc:
			case <-c.done:
				return
			}
		case <-c.done:
			return
		}
	}
}

// clampCommit lowers req.LeaderCommitIndex to the index of the last entry
// the request carries (its PrevLogEntry when it carries none).
func clampCommit(req *raft.AppendEntriesRequest) {
	last := req.PrevLogEntry
	if n := len(req.Entries); n > 0 {
		last = req.Entries[n-1].Index
	}
	if req.LeaderCommitIndex > last {
		req.LeaderCommitIndex = last
	}
}
