package sqlengine

import (
	"errors"
	"fmt"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// fault.go: what the engine does when it cannot apply the log. Only a
// node-local condition can stop apply — a full disk, an I/O error, a lock
// held by something else, memory — or a bug (an entry this build cannot
// decode, an outcome that differs from the leader's). Then the batch rolls
// back whole (nothing of it is applied, the applied index does not move),
// the engine records the fault, and ApplyBatch tries the batch again with
// a growing pause until it applies or the engine stops applying. The node
// stays up: it answers reads as its consistency level allows, refuses
// writes with the fault's SQLSTATE, and reports not ready. A fault that
// clears (space freed) clears itself on the next attempt.

// Fault is a condition that stops this node from applying the log.
type Fault struct {
	Err   error     // what failed, for logs and /readyz
	Index uint64    // the first entry of the batch that could not be applied
	Since time.Time // first seen
	Tries int       // attempts so far
}

// PGError is the error a client gets for a write while the fault lasts.
func (f *Fault) PGError() *pgerror.Error {
	code := pgerror.InternalError
	var se sqlite3.Error
	if errors.As(f.Err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			code = pgerror.DiskFull
		case sqlite3.ErrIoErr, sqlite3.ErrCorrupt, sqlite3.ErrNotADB, sqlite3.ErrCantOpen:
			code = pgerror.IOError
		case sqlite3.ErrNomem:
			code = pgerror.OutOfMemory
		}
	}
	return pgerror.New(code, "this node cannot apply the replication log: %v", f.Err).
		WithHint("The node retries by itself; see its log and /readyz. Other nodes may serve the write.")
}

// faultState is the engine's current fault, if any.
type faultState struct {
	mu  sync.Mutex
	cur *Fault
}

// set records a failed attempt at index and returns the fault (with its
// first-seen time and attempt count).
func (s *faultState) set(err error, index uint64) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.Index != index {
		s.cur = &Fault{Err: err, Index: index, Since: time.Now()}
	}
	s.cur.Err = err
	s.cur.Tries++
	return *s.cur
}

// clear ends the fault; it returns the one that ended, if any.
func (s *faultState) clear() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.cur
	s.cur = nil
	return f
}

func (s *faultState) get() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	f := *s.cur
	return &f
}

// Fault returns the condition that stops this node from applying the log,
// or nil while it applies normally.
func (e *Engine) Fault() *Fault { return e.fault.get() }

// StopApplying makes a faulted ApplyBatch give up instead of trying again,
// so that raft can shut down; nothing of the batch is applied. Call it
// before stopping the replication node.
func (e *Engine) StopApplying() { e.stopOnce.Do(func() { close(e.stop) }) }

// applyRetryPause is the pause before attempt n+1 of a faulted batch.
func applyRetryPause(n int) time.Duration {
	d := 50 * time.Millisecond << min(n, 7) // 50 ms … 6.4 s
	return min(d, 5*time.Second)
}

// applyError is a reason a batch could not be applied at all.
type applyError struct {
	index uint64
	err   error
}

func (e *applyError) Error() string { return fmt.Sprintf("entry %d: %v", e.index, e.err) }
func (e *applyError) Unwrap() error { return e.err }
