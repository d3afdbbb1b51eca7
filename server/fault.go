package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
)

// fault.go: a node that cannot apply the log (sqlengine/fault.go: disk
// full, I/O error, …) stays up. Its writes fail at once with the fault's
// SQLSTATE (53100, 58030, …) instead of entering a log it cannot apply,
// reads that must wait for this node's apply fail instead of hanging,
// /readyz says why it is not ready, and a leader hands leadership to a
// voter that can apply, so that the cluster goes on writing. Apply retries
// by itself; when it succeeds, all of this ends.

// onApplyFault is the engine's OnFault callback (on the apply goroutine):
// it wakes the fault watcher and every write waiting for its apply result.
func (s *Server) onApplyFault(sqlengine.Fault) {
	s.faultMu.Lock()
	s.faultCancel()
	s.faultCtx, s.faultCancel = context.WithCancel(context.Background())
	s.faultMu.Unlock()
	select {
	case s.faultKick <- struct{}{}:
	default:
	}
}

// faultSignal returns a context that ends when apply next meets a fault.
func (s *Server) faultSignal() context.Context {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faultCtx
}

// errApplyFaultDuringWrite ends the wait of a write whose entry this node
// cannot apply: it may be committed (and applied elsewhere), or not.
var errApplyFaultDuringWrite = errors.New("this node cannot apply the log")

// proposeContext derives the context of one proposal: it also ends when
// apply meets a fault, since the proposer waits for this node's apply
// result, which would then never come. The returned stop must be called.
func (s *Server) proposeContext(ctx context.Context) (context.Context, func()) {
	pctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(s.faultSignal(), func() { cancel(errApplyFaultDuringWrite) })
	return pctx, func() {
		unhook()
		cancel(nil)
	}
}

// watchFaults is the Server's goroutine that makes a faulted leader step
// aside. It ends with bgCtx.
func (s *Server) watchFaults() {
	for {
		select {
		case <-s.faultKick:
		case <-s.bgCtx.Done():
			return
		}
		f := s.eng.Fault()
		if f == nil || !s.isLeader() {
			continue
		}
		s.log.Warn("this leader cannot apply the log: handing leadership over", "index", f.Index, logKeyErr, f.Err)
		ctx, cancel := context.WithTimeout(s.bgCtx, 10*time.Second)
		if err := s.cluster.TransferLeadership(ctx); err != nil {
			s.log.Warn("leadership transfer after an apply fault failed", logKeyErr, err)
		}
		cancel()
	}
}

// writeFault is the error a write gets while this node cannot apply the
// log, nil otherwise.
func (s *Server) writeFault() error {
	if f := s.eng.Fault(); f != nil {
		return f.PGError()
	}
	return nil
}

// admitWrite is the leader's check before a write runs: this node can
// apply the log, and its disk has room.
func (s *Server) admitWrite() error {
	if err := s.writeFault(); err != nil {
		return err
	}
	return s.diskFull()
}

// faultPoll is how often a wait for this node's apply looks for a fault.
const faultPoll = 250 * time.Millisecond

// waitApplied waits until this node has applied index, failing with the
// fault's error if apply is stuck on one (instead of waiting for ever).
func (s *Server) waitApplied(ctx context.Context, index uint64) error {
	for {
		if err := s.writeFault(); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, faultPoll)
		err := s.repl.WaitApplied(wctx, index)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}

// applyProgress tracks the applied index over time for /readyz: apply that
// has work to do and has not moved for applyStuckAfter is stuck.
type applyProgress struct {
	mu      sync.Mutex
	index   uint64
	movedAt time.Time
}

// applyStuckAfter is how long apply may make no progress, with committed
// entries waiting, before /readyz reports the node not ready.
const applyStuckAfter = 5 * time.Second

// applyBehindMax is how many committed entries apply may have left before
// /readyz reports the node not ready (catching up).
const applyBehindMax = 2048

// readiness returns "" when the node can serve as its role allows, else why
// not.
// admitConnection refuses clients with 57P03 "the database system is
// starting up" until the node can serve them as its role allows
// (startupReadiness), as PostgreSQL does while it starts: a script that
// starts a node and then creates its schema sees 57P03, never a 40001 from
// a node without a leader. Once admitted, clients stay admitted through
// later elections (a write then waits for the new leader:
// pgraft.leader_wait).
func (s *Server) admitConnection() error {
	if s.started.Load() {
		return nil
	}
	if why := s.startupReadiness(); why != "" {
		return pgerror.New(pgerror.CannotConnectNow, "the database system is starting up").WithDetail(why + ".")
	}
	if s.started.CompareAndSwap(false, true) {
		s.log.Info("accepting client sessions")
	}
	return nil
}

// WaitReady waits until the node admits client sessions
// (admitConnection), or ctx ends.
func (s *Server) WaitReady(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if s.admitConnection() == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %s: %w", s.startupReadiness(), ctx.Err())
		case <-t.C:
		}
	}
}

// startupReadiness says why the node cannot serve clients yet ("" when it
// can): it must know a leader and have applied what was committed
// (readiness); as the leader, have applied its predecessors' entries; and,
// with SCRAM, hold the bootstrap superuser, which the leader creates
// through the log once it leads.
func (s *Server) startupReadiness() string {
	if why := s.readiness(); why != "" {
		return why
	}
	if s.leaderCatchingUp() {
		return "the leader is applying its predecessors' entries"
	}
	if s.cfg.Auth == AuthSCRAM && s.cfg.Superuser != "" && s.cfg.SuperuserPassword != "" {
		if _, ok := s.eng.Role(s.cfg.Superuser); !ok {
			return "the bootstrap superuser is not created yet"
		}
	}
	return ""
}

func (s *Server) readiness() string {
	if s.closing.Load() {
		return "shutting down"
	}
	st := s.cluster.Status()
	if st.LeaderID == "" {
		return "no leader known"
	}
	if f := s.eng.Fault(); f != nil {
		return "cannot apply the log at entry " + strconv.FormatUint(f.Index, 10) + " since " +
			f.Since.UTC().Format(time.RFC3339) + ": " + f.Err.Error()
	}
	applied, commit := st.AppliedIndex, st.CommitIndex
	p := &s.progress
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if applied != p.index || p.movedAt.IsZero() {
		p.index, p.movedAt = applied, now
	}
	switch {
	case commit > applied && now.Sub(p.movedAt) > applyStuckAfter:
		return "apply stuck at index " + strconv.FormatUint(applied, 10) + " (commit index " + strconv.FormatUint(commit, 10) + ")"
	case commit > applied+applyBehindMax:
		return "catching up: applied index " + strconv.FormatUint(applied, 10) + ", commit index " + strconv.FormatUint(commit, 10)
	}
	return ""
}
