package server

import (
	"context"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// txn.go is the transaction state machine of a session (docs/design.md §4):
// BEGIN opens a block; reads before the first write run on this node (in a
// held snapshot under REPEATABLE READ/SERIALIZABLE); the first write takes
// the gate and borrows the write connection; COMMIT proposes the recorded
// statements as one entry; any error makes the block failed (25P02) until
// ROLLBACK or ROLLBACK TO.

type txState uint8

const (
	txIdle   txState = iota // no transaction block
	txBlock                 // inside BEGIN … COMMIT
	txFailed                // a statement failed: only ROLLBACK (TO) is accepted
)

type txn struct {
	state      txState
	implicit   bool   // opened by a write followed by more statements before Sync; Sync ends it
	isolation  string // "read committed", "repeatable read", "serializable"
	readOnly   bool
	rt         *sqlengine.ReadTx // held snapshot (REPEATABLE READ, SERIALIZABLE) before writing
	w          txWriter          // where the block runs after its first write (txwriter.go)
	savepoints []string          // open savepoints, oldest first
	gen        uint64            // bumped on every statement: the idle timer's staleness check
	timer      *time.Timer
	abortErr   error         // set when the idle timer ended the transaction
	xactLocks  []advisoryKey // pg_advisory_xact_lock: released at the end
	// Exported snapshots (snapshots.go): the ids this block exported, its
	// number among exporting transactions, the snapshot a READ COMMITTED
	// block exports, and whether a query ran (SET TRANSACTION SNAPSHOT must
	// come first).
	exports  []string
	exportTx uint32
	exportRT *sqlengine.ReadTx
	queried  bool
}

// snapshot reports whether reads must come from one held snapshot.
func (t *txn) snapshot() bool {
	return t.isolation == "repeatable read" || t.isolation == "serializable"
}

// readOnly reports whether writes are refused with 25006: only when the
// client asked for read-only (docs/design.md §7).
func (s *session) readOnly() bool {
	if s.tx.state != txIdle {
		if v, ok := s.set.local["transaction_read_only"]; ok {
			return v == "on"
		}
		return s.tx.readOnly
	}
	v, _ := s.set.values["default_transaction_read_only"]
	return v == "on"
}

func (s *session) isolation() string {
	if s.tx.state != txIdle {
		return s.tx.isolation
	}
	v, _ := s.set.get("default_transaction_isolation")
	return v
}

// begin opens a transaction block.
func (s *session) beginLocked(opts *translate.TxOptions) {
	if s.tx.implicit { // BEGIN inside an implicit transaction makes it a regular block
		s.tx.implicit = false
		s.applyTxOptionsLocked(opts)
		return
	}
	if s.tx.state != txIdle {
		return // PostgreSQL warns "there is already a transaction in progress" and goes on
	}
	s.tx = txn{state: txBlock, isolation: s.isolation(), readOnly: s.readOnly()}
	s.applyTxOptionsLocked(opts)
}

func (s *session) applyTxOptionsLocked(opts *translate.TxOptions) {
	if opts == nil {
		return
	}
	if opts.Isolation != "" {
		s.tx.isolation = opts.Isolation
		if opts.Isolation == "read uncommitted" {
			s.tx.isolation = "read committed" // as in PostgreSQL
		}
	}
	if opts.ReadOnly != nil {
		s.tx.readOnly = *opts.ReadOnly
	}
}

// beginImplicitLocked opens the implicit transaction of a group of
// statements that ends at the next sync point.
func (s *session) beginImplicitLocked() {
	s.beginLocked(nil)
	s.tx.implicit = true
}

// Sync implements pgwire.Session: it commits the implicit transaction, or
// rolls it back when one of its statements failed.
func (s *session) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tx.implicit {
		if s.tx.state == txIdle {
			s.transactionEndedLocked() // clock.go: the implicit transaction of reads ends here
		}
		return nil
	}
	if s.tx.state == txFailed {
		s.rollbackLocked()
		return nil
	}
	ctx, stop := s.statementContext(ctx)
	defer stop()
	_, err := s.commitLocked(ctx)
	return contextError(ctx, err)
}

// ensureReadLocked opens the held snapshot of a REPEATABLE READ or
// SERIALIZABLE transaction.
func (s *session) ensureReadLocked(ctx context.Context) (*sqlengine.ReadTx, error) {
	if s.tx.rt == nil {
		if err := s.waitConsistent(ctx); err != nil {
			return nil, err
		}
		rt, err := s.srv.eng.BeginRead(ctx)
		if err != nil {
			return nil, err
		}
		s.tx.rt = rt
	}
	return s.tx.rt, nil
}

// ensureWriteLocked makes the transaction a writer, at its first write:
// a local one on the leader, a forwarded one on a follower (txwriter.go).
func (s *session) ensureWriteLocked(ctx context.Context, st *translate.Stmt) error {
	if s.tx.w != nil {
		return nil
	}
	if s.readOnly() {
		return pgerror.New(pgerror.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", readOnlyVerb(st))
	}
	return s.awaitLeaderLocked(ctx, func() error { return s.startWriteLocked(ctx, st) })
}

// startWriteLocked makes the block a writer: forwarded on a follower, local
// on the leader.
func (s *session) startWriteLocked(ctx context.Context, st *translate.Stmt) error {
	fwd, err := s.forwardWritesLocked(st)
	if err != nil {
		return err
	}
	if fwd {
		if err := s.startForwardingLocked(ctx); err != nil {
			return err
		}
		s.tx.w = forwardedWriter{s}
		return nil
	}
	w, err := s.beginLocalLocked(ctx)
	if err != nil {
		return err
	}
	s.tx.w = w
	return nil
}

// leaderPoll is how often a write waiting for a leader tries again.
const leaderPoll = 20 * time.Millisecond

// awaitLeaderLocked runs start, the start of a write, and while it fails
// because no leader could take the write (leaderUnavailable: nothing was
// written) tries again every leaderPoll, for up to pgraft.leader_wait and
// within the statement's context (statement_timeout, a cancel). During an
// election a write then waits for the new leader instead of failing at
// once; after the wait it fails with the last 40001 (57014 when the
// statement's context ends first). A leader-side session
// of a follower's does not wait: the follower's session does.
func (s *session) awaitLeaderLocked(ctx context.Context, start func() error) error {
	wait := s.set.duration("pgraft.leader_wait")
	deadline := time.Now().Add(wait)
	for {
		err := start()
		if err == nil || s.remote || !leaderUnavailable(err) || !time.Now().Before(deadline) {
			return err
		}
		t := time.NewTimer(leaderPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return contextError(ctx, err) // 57014, or the statement's own cause
		case <-s.srv.bgCtx.Done(): // the node is stopping
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// commitLocked ends the block. A failed block rolls back and reports
// ROLLBACK, as PostgreSQL does.
func (s *session) commitLocked(ctx context.Context) (string, error) {
	if s.tx.state == txFailed {
		s.rollbackLocked()
		return "ROLLBACK", nil
	}
	if s.tx.state == txIdle {
		return "COMMIT", nil // PostgreSQL warns "there is no transaction in progress"
	}
	if s.tx.w == nil {
		s.rollbackLocked()
		return "COMMIT", nil
	}
	tag, err := s.tx.w.commit(ctx)
	s.rollbackLocked() // what the block still holds: the gate (after the entry applied), snapshot, locks, cursors
	return tag, err
}

// rollbackLocked discards the block and everything it holds.
func (s *session) rollbackLocked() {
	if s.tx.w != nil {
		s.tx.w.rollback()
	}
	if s.tx.rt != nil {
		s.tx.rt.Close()
	}
	if s.tx.timer != nil {
		s.tx.timer.Stop()
	}
	s.releaseXactLocksLocked()
	s.endExportsLocked()
	s.tx = txn{}
	s.transactionEndedLocked() // clock.go
	s.set.endTransaction()
	s.closeCursors(false)
}

// savepointLocked handles SAVEPOINT, RELEASE and ROLLBACK TO.
func (s *session) savepointLocked(ctx context.Context, kind translate.Kind, name string) error {
	if s.tx.state == txIdle {
		verb := map[translate.Kind]string{translate.KindSavepoint: "SAVEPOINT",
			translate.KindRelease: "RELEASE SAVEPOINT", translate.KindRollbackTo: "ROLLBACK TO SAVEPOINT"}[kind]
		return pgerror.New(pgerror.NoActiveSQLTransaction, "%s can only be used in transaction blocks", verb)
	}
	if kind == translate.KindSavepoint {
		if s.tx.w != nil {
			if err := s.tx.w.savepoint(ctx, kind, name); err != nil {
				return err
			}
		}
		s.tx.savepoints = append(s.tx.savepoints, name)
		return nil
	}
	i := len(s.tx.savepoints) - 1
	for ; i >= 0 && s.tx.savepoints[i] != name; i-- {
	}
	if i < 0 {
		return pgerror.New(pgerror.InvalidSavepointSpecification, "savepoint %q does not exist", name)
	}
	if s.tx.w != nil {
		if err := s.tx.w.savepoint(ctx, kind, name); err != nil {
			return err
		}
	}
	if kind == translate.KindRelease {
		s.tx.savepoints = s.tx.savepoints[:i]
		return nil
	}
	s.tx.savepoints = s.tx.savepoints[:i+1]
	s.tx.state = txBlock
	return nil
}

// touchLocked marks activity: an armed idle timer becomes stale.
func (s *session) touchLocked() {
	s.tx.gen++
	if s.tx.timer != nil {
		s.tx.timer.Stop()
		s.tx.timer = nil
	}
}

// armIdleTimerLocked bounds how long a transaction may hold the write gate
// while its client does nothing (pgraft.idle_write_timeout; 25P03).
func (s *session) armIdleTimerLocked() {
	if s.tx.w == nil || !s.tx.w.holdsGate() {
		return
	}
	d := s.set.duration("pgraft.idle_write_timeout")
	if v := s.set.duration("idle_in_transaction_session_timeout"); v > 0 && (d == 0 || v < d) {
		d = v
	}
	if d <= 0 {
		return
	}
	gen := s.tx.gen
	s.tx.timer = time.AfterFunc(d, func() { s.idleTimeout(gen) })
}

func (s *session) idleTimeout(gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tx.gen != gen || s.tx.w == nil || !s.tx.w.holdsGate() {
		return
	}
	s.log.Warn("transaction ended: idle while holding the write gate")
	s.rollbackLocked()
	s.tx.state = txFailed
	s.tx.abortErr = pgerror.New(pgerror.IdleInTransactionTimeout,
		"terminating transaction due to idle-in-transaction timeout: it held the write gate")
}
