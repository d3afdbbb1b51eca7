package replica

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"
)

// leadership.go is the Node's view of who leads: the leader watcher (the
// Node's own goroutine), WaitLeader and OnLeadershipChange.

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
	n.observerCh = make(chan raft.Observation, 64)
	n.observer = raft.NewObserver(n.observerCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState,
			raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
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

// watchLeader wakes WaitLeader callers on every leader observation, tells
// OnLeadershipChange callbacks when this node's leadership flips, and
// records heartbeat failures for Status. Raft drops observations when the
// channel is full; a lost "resumed" one leaves a member marked unreachable
// until the next leadership change (the channel is sized to make that
// unlikely).
func (n *Node) watchLeader(ctx context.Context) {
	var fns []func(bool)
	reported := false
	for {
		select {
		case <-ctx.Done():
			return
		case o := <-n.observerCh:
			switch o.Data.(type) {
			case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
				n.heartbeats.observe(o.Data)
			default:
				n.broadcastLeaderChange()
			}
		case isLeader := <-n.raft.LeaderCh():
			n.broadcastLeaderChange()
			n.heartbeats.reset()
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
