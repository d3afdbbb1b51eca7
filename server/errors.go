package server

import (
	"context"
	"errors"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/replica"
)

// proposeError maps a replica outcome to what the client sees (I4): an
// entry that surely was not appended is a retryable 40001; one whose outcome
// is unknown is 40003, never a false success or failure.
func proposeError(ctx context.Context, err error) error {
	if pe := pgerror.As(err); pe != nil {
		return pe
	}
	if replica.IsAmbiguous(err) {
		return pgerror.New(pgerror.StatementCompletionUnknown,
			"the write may or may not have committed: leadership changed or the node stopped while it was in flight")
	}
	if errors.Is(err, replica.ErrNotLeader) || errors.Is(err, replica.ErrEnqueueTimeout) {
		return notLeaderError()
	}
	if errors.Is(err, replica.ErrShutdown) {
		return pgerror.New(pgerror.AdminShutdown, "terminating connection due to administrator command")
	}
	if ctx.Err() != nil {
		return contextError(ctx, err)
	}
	return pgerror.New(pgerror.InternalError, "write failed: %v", err)
}

// The messages of the 40001 errors after which no leader took a write and
// nothing was written (leaderUnavailable).
const (
	msgNotLeader   = "this node is not the leader; the write was not applied"
	msgNoLeader    = "this node is a follower and no leader is known; the write was not applied"
	msgUnreachable = "cannot reach the leader at "
)

// notLeaderError is the retryable error for a write that reached a node that
// cannot accept it now.
func notLeaderError() error {
	return pgerror.New(pgerror.SerializationFailure, msgNotLeader).
		WithHint("Retry the transaction; it will go to the new leader.")
}

// leaderUnavailable reports whether err says that no leader could take a
// write and nothing was written: this node does not lead (nor does the node
// a follower forwarded to), none is known, or the known one cannot be
// dialled. Such a write may wait for a leader and try again
// (pgraft.leader_wait).
func leaderUnavailable(err error) bool {
	pe := pgerror.As(err)
	return pe != nil && pe.Code == pgerror.SerializationFailure &&
		(pe.Message == msgNotLeader || pe.Message == msgNoLeader || strings.HasPrefix(pe.Message, msgUnreachable))
}
