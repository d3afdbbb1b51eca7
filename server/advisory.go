package server

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// advisoryLocks holds PostgreSQL's advisory locks (pg_advisory_lock and
// kin), which migration tools (golang-migrate, Rails, Prisma) take around
// their work. A lock belongs to a session and is reentrant; session locks
// last until unlocked or the session ends, transaction locks until the
// transaction ends. They are held on the node the session is connected to:
// run migrations on the leader. Shared locks are taken exclusively.
type advisoryLocks struct {
	mu      sync.Mutex
	held    map[advisoryKey]*advisoryHold
	changed chan struct{} // closed and replaced whenever a lock is released
}

// advisoryKey is one lock: PostgreSQL keeps the one-bigint and two-integer
// forms apart.
type advisoryKey struct {
	a, b int64
	two  bool
}

type advisoryHold struct {
	owner *session
	count int
}

// lock takes key for s, waiting until ctx ends.
func (l *advisoryLocks) lock(ctx context.Context, s *session, key advisoryKey) error {
	for {
		ok, ch := l.tryLock(s, key)
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryLock takes key for s if it is free or already s's; otherwise it returns
// a channel closed at the next release.
func (l *advisoryLocks) tryLock(s *session, key advisoryKey) (bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[advisoryKey]*advisoryHold{}
		l.changed = make(chan struct{})
	}
	h := l.held[key]
	if h == nil {
		l.held[key] = &advisoryHold{owner: s, count: 1}
		return true, nil
	}
	if h.owner == s {
		h.count++
		return true, nil
	}
	return false, l.changed
}

// unlock releases one hold of key by s; false if s does not hold it.
func (l *advisoryLocks) unlock(s *session, key advisoryKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.held[key]
	if h == nil || h.owner != s {
		return false
	}
	if h.count--; h.count == 0 {
		delete(l.held, key)
		l.broadcastLocked()
	}
	return true
}

// unlockAll releases every lock s holds.
func (l *advisoryLocks) unlockAll(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	released := false
	for k, h := range l.held {
		if h.owner == s {
			delete(l.held, k)
			released = true
		}
	}
	if released {
		l.broadcastLocked()
	}
}

func (l *advisoryLocks) broadcastLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// runAdvisoryLocked answers SELECT pg_advisory_lock(…) and its kin. The
// locks live on the leader, so that they exclude sessions on every node: a
// follower session takes them through its leader-side session, which holds
// them until the follower session ends (its link closes) or unlocks.
func (s *session) runAdvisoryLocked(ctx context.Context, p *portal) error {
	st := p.stmt.st
	if !s.remote && !s.srv.isLeader() {
		return s.forwardAdvisoryLocked(ctx, p)
	}
	key, err := s.advisoryKey(ctx, p)
	if err != nil {
		return err
	}
	locks := &s.srv.advisory
	xact := strings.Contains(st.Advisory, "_xact_")
	var result any = ""
	switch {
	case st.Advisory == "pg_advisory_unlock_all":
		locks.unlockAll(s)
	case strings.Contains(st.Advisory, "unlock"):
		result = locks.unlock(s, key)
	case strings.HasPrefix(st.Advisory, "pg_try_"):
		ok, _ := locks.tryLock(s, key)
		result = ok
		if ok && xact {
			s.tx.xactLocks = append(s.tx.xactLocks, key)
		}
	default:
		if err := s.waitAdvisory(ctx, key); err != nil {
			return err
		}
		if xact {
			s.tx.xactLocks = append(s.tx.xactLocks, key)
		}
	}
	if xact && s.tx.state == txIdle { // a transaction of its own: over already
		s.releaseXactLocksLocked()
	}
	p.mat = [][]any{{result}}
	return nil
}

// waitAdvisory waits for a lock, bounded by lock_timeout (55P03).
func (s *session) waitAdvisory(ctx context.Context, key advisoryKey) error {
	lctx, cancel := ctx, context.CancelFunc(func() {})
	if d := s.set.duration("lock_timeout"); d > 0 {
		lctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	err := s.srv.advisory.lock(lctx, s, key)
	if err != nil && ctx.Err() == nil {
		return pgerror.New(pgerror.LockNotAvailable, "canceling statement due to lock timeout")
	}
	return err
}

// advisoryKey evaluates the function's arguments: one bigint, or two
// integers.
func (s *session) advisoryKey(ctx context.Context, p *portal) (advisoryKey, error) {
	if p.stmt.st.SQL == "" {
		return advisoryKey{}, nil
	}
	rows, err := s.srv.eng.Query(ctx, p.stmt.st.SQL, p.args)
	if err != nil {
		return advisoryKey{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		return advisoryKey{}, rows.Err()
	}
	vals, err := rows.Values()
	if err != nil {
		return advisoryKey{}, err
	}
	var ints []int64
	for _, v := range vals {
		n, ok := toInt64(v)
		if !ok {
			return advisoryKey{}, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type bigint: %q", v)
		}
		ints = append(ints, n)
	}
	switch len(ints) {
	case 1:
		return advisoryKey{a: ints[0]}, nil
	case 2:
		return advisoryKey{a: ints[0], b: ints[1], two: true}, nil
	}
	return advisoryKey{}, pgerror.New(pgerror.UndefinedFunction, "function %s with %d arguments does not exist", p.stmt.st.Advisory, len(ints))
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), x == float64(int64(x))
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	case []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// releaseXactLocksLocked releases the transaction-level advisory locks.
func (s *session) releaseXactLocksLocked() {
	for _, k := range s.tx.xactLocks {
		s.srv.advisory.unlock(s, k)
	}
	s.tx.xactLocks = nil
}

// forwardAdvisoryLocked runs an advisory-lock call on the leader.
func (s *session) forwardAdvisoryLocked(ctx context.Context, p *portal) error {
	if err := s.dialLeaderLocked(ctx); err != nil {
		return err
	}
	s.fwd.pinned = true // the leader-side session may now hold the session's locks
	st := p.stmt.st
	resp, err := s.roundTripLocked(ctx, &fwdRequest{Op: fwdExec, SQL: st.Source, ParamOIDs: st.ParamOIDs, Args: p.args}, false)
	if err != nil {
		return err
	}
	p.mat = resp.Rows
	return nil
}
