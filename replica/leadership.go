package replica

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// leadership.go is the Node's view of who leads: the leader watcher (the
// Node's own goroutine), WaitLeader, OnLeadershipChange, and leader
// readiness (WaitLeaderReady), which the watcher drives with one Raft
// barrier per term this node leads.

// barrierTimeout bounds one attempt of a new leader's barrier; a failed
// attempt is retried after barrierRetryDelay while the node leads the term.
const (
	barrierTimeout    = 10 * time.Second
	barrierRetryDelay = 50 * time.Millisecond
)

// readiness records the highest term in which this node, as the leader,
// applied a barrier: every entry committed before that term is applied here
// too. A newly elected leader may hold entries that its predecessor
// committed and acknowledged but that it has not applied yet (a table its
// predecessor created); until its barrier applies, a write would run, and
// a read index would be computed, against that stale state.
type readiness struct {
	mu      sync.Mutex
	term    uint64        // 0 until the first barrier applies
	changed chan struct{} // closed and replaced when term moves
}

// load returns the ready term and a channel closed when it next moves.
func (r *readiness) load() (uint64, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.term, r.changed
}

// set records that a barrier of term applied. The term only moves forward:
// a barrier of an older term that finishes late changes nothing.
func (r *readiness) set(term uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if term <= r.term {
		return
	}
	r.term = term
	if r.changed != nil {
		close(r.changed)
	}
	r.changed = make(chan struct{})
}

// WaitLeaderReady returns once this node leads and a barrier of its current
// term has applied here, so that every entry committed before the term is
// applied: only then may the leader admit writes or answer a read index.
// The leader watcher starts that barrier when this node becomes the leader
// and retries it until it applies, the term ends or the node stops.
//
// It returns ErrNotLeader at once when this node does not lead, and as soon
// as it stops leading while it waits (no caller waits for an election);
// ctx's error, wrapped, when ctx ends first; ErrShutdown after Shutdown.
func (n *Node) WaitLeaderReady(ctx context.Context) error {
	_, err := n.waitLeaderReady(ctx)
	return err
}

// LeaderReady reports whether this node leads and its barrier of the
// current term has applied: whether WaitLeaderReady would return nil now.
func (n *Node) LeaderReady() bool {
	ready, _ := n.ready.load()
	return n.IsLeader() && ready == n.Term()
}

// waitLeaderReady is WaitLeaderReady, returning the term it is ready in.
func (n *Node) waitLeaderReady(ctx context.Context) (uint64, error) {
	for {
		// Take both channels before looking, so no change is missed.
		leaderCh := n.leaderChanged()
		ready, readyCh := n.ready.load()
		if n.isShutdown() {
			return 0, ErrShutdown
		}
		if !n.IsLeader() {
			return 0, ErrNotLeader
		}
		if term := n.Term(); ready == term {
			return term, nil
		}
		select {
		case <-leaderCh:
		case <-readyCh:
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for leader readiness: %w", ctx.Err())
		case <-n.stopped:
			return 0, ErrShutdown
		}
	}
}

// startReadyBarrier starts the barrier of term on a goroutine the Node owns
// (n.wg); ctx is the watcher's, which Shutdown cancels.
func (n *Node) startReadyBarrier(ctx context.Context, term uint64) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.barrierUntilReady(ctx, term)
	}()
}

// barrierUntilReady runs barriers until one applies in term, and records
// term as ready. It gives up when the node stops or no longer leads term
// (a later term has a barrier of its own).
func (n *Node) barrierUntilReady(ctx context.Context, term uint64) {
	for {
		bctx, cancel := context.WithTimeout(ctx, barrierTimeout)
		err := n.Barrier(bctx)
		cancel()
		if ctx.Err() != nil || !n.IsLeader() || n.Term() != term {
			return
		}
		if err == nil {
			n.ready.set(term)
			n.log.Info("leader ready: earlier terms applied", logKeyTerm, term, logKeyIndex, n.AppliedIndex())
			return
		}
		n.log.Warn("leader barrier failed; retrying", logKeyTerm, term, logKeyErr, err)
		if sleepCtx(ctx, barrierRetryDelay) != nil {
			return
		}
	}
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
	if n.cfg.TrailingLogs == 0 {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.tuneTrailingLogs(ctx)
		}()
	}
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
// OnLeadershipChange callbacks when this node's leadership flips, starts
// the readiness barrier of every term this node leads, and records
// heartbeat failures for Status. Raft drops observations when the
// channel is full; a lost "resumed" one leaves a member marked unreachable
// until the next leadership change (the channel is sized to make that
// unlikely).
func (n *Node) watchLeader(ctx context.Context) {
	var fns []func(bool)
	reported := false
	var barrierTerm uint64 // the last term whose readiness barrier was started
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
			// Raft keeps only the latest of unread notifications: losing
			// and regaining leadership may arrive as one "true", in a new
			// term, which then needs a barrier of its own.
			if term := n.Term(); isLeader && term != barrierTerm {
				barrierTerm = term
				n.startReadyBarrier(ctx, term)
			}
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
