package server

import (
	"context"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/sqlengine"
)

// clock.go is a session's transaction and statement time (docs/design.md
// §6, "Time in reads"). As in PostgreSQL, now() and CURRENT_TIMESTAMP are
// the start of the transaction: of the block from its first statement
// (BEGIN) to COMMIT or ROLLBACK, or outside a block of the implicit
// transaction that runs from a request's first statement to its sync point
// (the end of a simple Query, or a Sync); statement_timestamp() is the
// statement's start. Reads get both through sqlengine.WithClock. A write's
// entry carries one time that the leader fixes (execContext): the
// transaction's start, clamped to the leader's clock and to after the last
// applied entry's time.

// sessionClock is what a session knows of time. Guarded by session.mu.
type sessionClock struct {
	xact    time.Time // the transaction's start; zero between transactions
	stmt    time.Time // the running statement's start
	stmtReq uint64    // the client request (pgwire.RequestID) stmt was taken in
	// forwarded is the transaction start a follower's session sent with
	// its request, for a leader-side session (forward_leader.go).
	forwarded time.Time
}

// statementStartedLocked notes that a client statement starts, and with it
// a transaction when none runs. As PostgreSQL's statement_timestamp() is
// the time the client's message arrived, the statements of one simple
// Query message (oneMessage) share the first one's; in the extended
// protocol each Execute is a message of its own.
func (s *session) statementStartedLocked(ctx context.Context, oneMessage bool) {
	now := s.srv.now()
	req := pgwire.RequestID(ctx)
	if !oneMessage || req == 0 || req != s.clock.stmtReq || s.clock.stmt.IsZero() {
		s.clock.stmt, s.clock.stmtReq = now, req
	}
	if s.clock.xact.IsZero() {
		s.clock.xact = s.clock.stmt
	}
}

// transactionEndedLocked notes that the transaction is over: the next
// statement starts another.
func (s *session) transactionEndedLocked() { s.clock.xact = time.Time{} }

// xactTime is the start of the session's transaction: the follower
// session's for a leader-side session, else this session's, else (no
// statement started one: internal writes) the clock now.
func (s *session) xactTime() time.Time {
	switch {
	case !s.clock.forwarded.IsZero():
		return s.clock.forwarded
	case !s.clock.xact.IsZero():
		return s.clock.xact
	}
	return s.srv.now()
}

// readContext gives a read the session's transaction and statement start
// and time zone.
func (s *session) readContext(ctx context.Context) context.Context {
	xact := s.xactTime()
	stmt := s.clock.stmt
	if stmt.Before(xact) {
		stmt = xact
	}
	return sqlengine.WithClock(ctx, sqlengine.Clock{Xact: xact, Stmt: stmt, Loc: s.set.location()})
}

// entryTime is the time of a new entry, in µs: the transaction's start, so
// that a block's writes see the now() its reads see, but never after the
// leader's clock (a follower's clock that runs ahead must not drag the
// cluster's time along: every later entry would take it) and never at or
// below the last applied entry's time (so time does not move backwards,
// also after a failover to a node with a slower clock). The clamps make
// a write's now() differ from its block's reads only when another entry
// was applied since the block began, or the follower's clock is ahead.
func (s *session) entryTime() int64 {
	t := s.xactTime()
	if now := s.srv.now(); t.After(now) {
		t = now
	}
	us := t.UnixMicro()
	if last := s.srv.eng.LastTime(); us <= last {
		us = last + 1
	}
	return us
}
