package server

import (
	"context"
	"sync"
	"time"
)

// leadership tracks whether this node may admit writes: it leads, and a
// Raft barrier has applied every entry committed before its term. A new
// leader may hold committed entries it has not applied yet (a table its
// predecessor created and acknowledged); admitting a write before they are
// applied would translate and run it against a stale schema and data.
type leadership struct {
	mu      sync.Mutex
	gen     uint64        // bumped on every leadership change
	ready   bool          // leader, and the barrier of this term has applied
	readyCh chan struct{} // closed when ready becomes true
}

// onLeadershipChange is the replica callback (from the Node's watcher
// goroutine). Becoming leader starts a barrier, owned by the Server.
func (s *Server) onLeadershipChange(isLeader bool) {
	l := &s.lead
	l.mu.Lock()
	l.gen++
	gen := l.gen
	if l.ready || l.readyCh == nil {
		l.readyCh = make(chan struct{})
	}
	l.ready = false
	l.mu.Unlock()
	if !isLeader || s.bgCtx.Err() != nil {
		return
	}
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		s.barrier(gen)
	}()
}

// barrier waits until this leader has applied everything before its term,
// retrying until it succeeds, leadership changes or the server stops.
func (s *Server) barrier(gen uint64) {
	for {
		ctx, cancel := context.WithTimeout(s.bgCtx, 10*time.Second)
		err := s.node.Barrier(ctx)
		cancel()
		l := &s.lead
		l.mu.Lock()
		if l.gen != gen || s.bgCtx.Err() != nil {
			l.mu.Unlock()
			return
		}
		if err == nil {
			l.ready = true
			close(l.readyCh)
			l.mu.Unlock()
			s.log.Info("leader ready: earlier terms applied", "index", s.eng.AppliedIndex())
			return
		}
		l.mu.Unlock()
		s.log.Warn("leader barrier failed; retrying", logKeyErr, err)
		select {
		case <-s.bgCtx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitWritable returns once this node may admit writes, or a retryable
// error at once when it is not the leader (no write waits for an election
// past its statement's deadline).
func (s *Server) waitWritable(ctx context.Context) error {
	l := &s.lead
	l.mu.Lock()
	ready, ch := l.ready, l.readyCh
	l.mu.Unlock()
	if ready {
		return nil
	}
	if !s.isLeader() || ch == nil {
		return notLeaderError()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return contextError(ctx, ctx.Err())
	}
}

// leaderCatchingUp reports whether this node leads but has not yet applied
// its predecessors' entries.
func (s *Server) leaderCatchingUp() bool {
	l := &s.lead
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.ready && s.isLeader()
}
