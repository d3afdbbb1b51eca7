package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// Sentinel errors. Propose's callers decide between "retry elsewhere" and
// "tell the client the outcome is unknown" with IsAmbiguous; they never need
// to import raft.
var (
	// ErrNotLeader means this node is not the leader (or is handing
	// leadership over): the entry was definitely not appended.
	ErrNotLeader = errors.New("replica: not the leader")
	// ErrEnqueueTimeout means raft did not accept the entry in time: it was
	// definitely not appended.
	ErrEnqueueTimeout = errors.New("replica: timed out enqueuing entry")
	// ErrLeadershipLost means the entry was appended but leadership was lost
	// before it committed: it may or may not commit later.
	ErrLeadershipLost = errors.New("replica: leadership lost while committing entry")
	// ErrShutdown means the node is shut down or shutting down. On its own it
	// is definite; wrapped as ambiguous when an entry was in flight.
	ErrShutdown = errors.New("replica: node is shut down")
	// ErrTooLarge means the entry exceeds Config.MaxEntrySize: it was
	// definitely not appended.
	ErrTooLarge = errors.New("replica: entry too large")
)

// ambiguousError marks an error after which the entry may have committed.
type ambiguousError struct{ err error }

func (e *ambiguousError) Error() string { return e.err.Error() + " (outcome unknown)" }
func (e *ambiguousError) Unwrap() error { return e.err }

// ambiguous marks err as "the entry may have committed".
func ambiguous(err error) error { return &ambiguousError{err: err} }

// IsAmbiguous reports whether a Propose error leaves the entry's outcome
// unknown: it was appended to the leader's log and may still commit (or has
// already). A false result for a non-nil error means the entry was definitely
// not appended, so retrying it cannot apply it twice.
func IsAmbiguous(err error) bool {
	if err == nil {
		return false
	}
	var a *ambiguousError
	return errors.As(err, &a) || errors.Is(err, ErrLeadershipLost)
}

// translateError maps raft's errors to this package's sentinels, so callers
// never import raft. inFlight says whether the entry had been handed to raft
// (so a shutdown may have committed it); unknown errors are then ambiguous
// too, because claiming a definite failure could be false.
func translateError(err error, inFlight bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: leadership transfer in progress", ErrNotLeader)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrEnqueueTimeout
	case errors.Is(err, raft.ErrLeadershipLost):
		return ErrLeadershipLost
	case errors.Is(err, raft.ErrAbortedByRestore):
		// We never call raft's user restore, but if it happens the entry
		// was appended and its fate is not ours to know.
		return ambiguous(fmt.Errorf("%w: aborted by snapshot restore", ErrLeadershipLost))
	case errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, ErrShutdown):
		if inFlight {
			return ambiguous(ErrShutdown)
		}
		return ErrShutdown
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		if inFlight {
			return ambiguous(fmt.Errorf("wait for entry: %w", err))
		}
		return err
	}
	if inFlight {
		return ambiguous(fmt.Errorf("raft: %w", err))
	}
	return fmt.Errorf("raft: %w", err)
}
