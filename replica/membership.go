package replica

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"
)

// Member is one server in the Raft configuration.
type Member struct {
	ID    string
	Addr  string
	Voter bool
}

// Status is a point-in-time view of the node, for /status and tests.
type Status struct {
	NodeID            string
	Addr              string // advertised Raft address
	State             string // "Leader", "Follower", "Candidate", "Shutdown"
	Term              uint64
	LeaderID          string
	LeaderAddr        string
	AppliedIndex      uint64
	CommitIndex       uint64
	LastIndex         uint64
	LastSnapshotIndex uint64
	Members           []Member // latest configuration, possibly not yet committed
}

// Status returns the node's view of itself and the cluster.
func (n *Node) Status() Status {
	leaderID, leaderAddr := n.Leader()
	s := Status{
		NodeID:            n.cfg.NodeID,
		Addr:              n.addr,
		State:             n.State(),
		Term:              n.Term(),
		LeaderID:          leaderID,
		LeaderAddr:        leaderAddr,
		AppliedIndex:      n.AppliedIndex(),
		CommitIndex:       n.CommitIndex(),
		LastIndex:         n.LastIndex(),
		LastSnapshotIndex: n.lastSnapshotIndex(),
	}
	servers, err := n.servers()
	if err != nil {
		return s // shut down: no configuration to report
	}
	for _, srv := range servers {
		s.Members = append(s.Members, Member{
			ID: string(srv.ID), Addr: string(srv.Address), Voter: srv.Suffrage == raft.Voter,
		})
	}
	return s
}

// servers returns the latest Raft configuration's servers.
func (n *Node) servers() ([]raft.Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, translateError(err, false)
	}
	return f.Configuration().Servers, nil
}

// hasOtherVoters reports whether a voter other than this node exists, that
// is, whether leadership could be handed over.
func (n *Node) hasOtherVoters() bool {
	servers, err := n.servers()
	if err != nil {
		return false
	}
	for _, s := range servers {
		if s.Suffrage == raft.Voter && string(s.ID) != n.cfg.NodeID {
			return true
		}
	}
	return false
}

// AddVoter adds (or re-adds) a voting member. Leader only. Idempotent, as in
// hraftd: a member already present with the same ID and address is left
// alone; one with the same ID or address but not both is removed first (a
// node that lost its data rejoins as a new voter, DESIGN §9).
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	servers, err := n.servers()
	if err != nil {
		return fmt.Errorf("add voter %s: %w", id, err)
	}
	for _, s := range servers {
		sameID, sameAddr := string(s.ID) == id, string(s.Address) == addr
		if sameID && sameAddr && s.Suffrage == raft.Voter {
			return nil
		}
		if (sameID || sameAddr) && string(s.ID) == n.cfg.NodeID {
			return fmt.Errorf("add voter %s at %s: conflicts with this node (%s at %s)", id, addr, s.ID, s.Address)
		}
		if sameID || sameAddr {
			n.log.Info("removing stale member before adding it again", "member", s.ID, "addr", s.Address)
			if err := n.RemoveServer(ctx, string(s.ID)); err != nil {
				return fmt.Errorf("add voter %s: %w", id, err)
			}
		}
	}
	f := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.enqueueTimeout(ctx))
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("add voter %s: %w", id, translateError(err, false))
	}
	n.log.Info("added voter", "member", id, "addr", addr)
	return nil
}

// RemoveServer removes a member. Leader only; removing an absent member
// succeeds.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	servers, err := n.servers()
	if err != nil {
		return fmt.Errorf("remove server %s: %w", id, err)
	}
	found := false
	for _, s := range servers {
		found = found || string(s.ID) == id
	}
	if !found {
		return nil
	}
	f := n.raft.RemoveServer(raft.ServerID(id), 0, n.enqueueTimeout(ctx))
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("remove server %s: %w", id, translateError(err, false))
	}
	n.log.Info("removed server", "member", id)
	return nil
}

// WaitLeader returns once this node knows a leader (itself or another).
func (n *Node) WaitLeader(ctx context.Context) error {
	for {
		changed := n.leaderChanged()
		if id, _ := n.Leader(); id != "" {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for leader: %w", ctx.Err())
		case <-n.stopped:
			return ErrShutdown
		}
	}
}

// OnLeadershipChange registers fn, called with true when this node becomes
// the leader and false when it stops being it. fn is first called with the
// current state, then on each change, always from the Node's watcher
// goroutine (so calls never overlap or reorder). fn must not block for long.
func (n *Node) OnLeadershipChange(fn func(isLeader bool)) {
	n.fnsMu.Lock()
	n.newFns = append(n.newFns, fn)
	n.fnsMu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// leaderChanged returns a channel closed at the next leader change.
func (n *Node) leaderChanged() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderCh
}

// startWatch starts the watcher goroutine; stopWatchAndWait stops it.
func (n *Node) startWatch() {
	n.leaderCh = make(chan struct{})
	n.kick = make(chan struct{}, 1)
	// Buffered and non-blocking: raft drops observations when it is full,
	// which is fine because the watcher re-reads the current leader.
	n.observerCh = make(chan raft.Observation, 16)
	n.observer = raft.NewObserver(n.observerCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(n.observer)
	ctx, cancel := context.WithCancel(context.Background())
	n.stopWatch = cancel
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.watchLeader(ctx)
	}()
}

func (n *Node) stopWatchAndWait() {
	if n.stopWatch == nil {
		return
	}
	n.raft.DeregisterObserver(n.observer)
	n.stopWatch()
	n.wg.Wait()
}

// watchLeader wakes WaitLeader callers on every leader observation and
// tells OnLeadershipChange callbacks when this node's leadership flips.
func (n *Node) watchLeader(ctx context.Context) {
	var fns []func(bool)
	reported := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.observerCh:
			n.broadcastLeaderChange()
		case isLeader := <-n.raft.LeaderCh():
			n.broadcastLeaderChange()
			if isLeader != reported {
				reported = isLeader
				n.log.Info("leadership changed", "leader", isLeader, logKeyTerm, n.Term())
				for _, fn := range fns {
					fn(isLeader)
				}
			}
		case <-n.kick:
			n.fnsMu.Lock()
			added := n.newFns
			n.newFns = nil
			n.fnsMu.Unlock()
			for _, fn := range added {
				fn(reported)
			}
			fns = append(fns, added...)
		}
	}
}

func (n *Node) broadcastLeaderChange() {
	n.leaderMu.Lock()
	close(n.leaderCh)
	n.leaderCh = make(chan struct{})
	n.leaderMu.Unlock()
}
