package server

import (
	"time"

	"context"
	"strings"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// route.go decides where each statement runs (docs/design.md §1):
//   - reads run on this node's read pool after the consistency wait, inside
//     a transaction's snapshot (REPEATABLE READ, SERIALIZABLE), or on the
//     borrowed write connection once the transaction has written;
//   - autocommit writes become one log entry each, admitted through the
//     gate as shared holders;
//   - writes inside a transaction take the gate exclusively and run
//     speculatively until COMMIT proposes them as one entry (txn.go).

// start runs a portal's statement up to its first row. ctx is the
// statement's context (statementContext): the caller ends it.
func (s *session) start(ctx context.Context, p *portal) error {
	st := p.stmt.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.admitLocked(st); err != nil {
		return err
	}
	s.touchLocked()
	s.statementStartedLocked(ctx, p.stmt.oneMessage) // clock.go
	defer s.armIdleTimerLocked()
	if _, err := p.stmt.columns(ctx, true); err != nil && s.tx.w == nil && !s.forwardsUndescribed(st) {
		return s.failLocked(err)
	}
	p.cols = p.stmt.cols
	if err := s.dispatchLocked(ctx, p); err != nil {
		return s.failLocked(contextError(ctx, err))
	}
	return nil
}

// admitLocked refuses statements that the transaction state does not allow.
func (s *session) admitLocked(st *translate.Stmt) error {
	if s.tx.abortErr != nil && st.Kind != translate.KindRollback && st.Kind != translate.KindCommit {
		err := s.tx.abortErr
		s.tx.abortErr = nil
		return err
	}
	if s.tx.state != txFailed {
		return nil
	}
	switch st.Kind {
	case translate.KindRollback, translate.KindCommit, translate.KindRollbackTo:
		return nil
	}
	return errInFailedTx
}

var errInFailedTx = pgerror.New(pgerror.InFailedSQLTransaction,
	"current transaction is aborted, commands ignored until end of transaction block")

// failLocked records a failed statement: a transaction block becomes
// failed. An SQLite error that reached here unmapped gets its SQLSTATE
// (the poison fuzzer met a raw "no such column" as XX000).
func (s *session) failLocked(err error) error {
	if s.tx.state == txBlock {
		s.tx.state = txFailed
	}
	return sqlengine.MapError(err)
}

// statementFailed is failLocked for errors found while streaming rows.
func (s *session) statementFailed(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failLocked(err)
}

// dispatchLocked runs the statement: to completion, or, for a read, until
// the portal streams its rows from a read connection.
func (s *session) dispatchLocked(ctx context.Context, p *portal) error {
	if p.stmt.st.SessionValues {
		s.bindSessionSeqs(p) // sequences.go
	}
	st := p.stmt.st
	if err := s.checkAccess(st); err != nil { // privileges.go
		return err
	}
	switch st.Kind {
	case translate.KindSelect:
		return s.runSelectLocked(ctx, p)
	case translate.KindInsert, translate.KindUpdate, translate.KindDelete, translate.KindDDL, translate.KindRole:
		res, err := s.runWriteLocked(ctx, st, p.args)
		if err != nil {
			return err
		}
		s.seqs.note(res.Seqs) // sequences.go
		p.seqs = res.Seqs
		if st.Returning {
			p.mat = res.Rows
		} else {
			p.done, p.tag = true, commandTag(st, res.RowsAffected)
		}
		return nil
	}
	return s.runUtilityLocked(ctx, p)
}

// runSelectLocked starts a read.
func (s *session) runSelectLocked(ctx context.Context, p *portal) error {
	st := p.stmt.st
	defer func() { // a query ran in the block (after an export, which checks it)
		if s.tx.state != txIdle {
			s.tx.queried = true
		}
	}()
	if st.ExportSnapshot {
		return s.runExportSnapshotLocked(ctx, p) // snapshots.go
	}
	if st.Advisory != "" {
		return s.runAdvisoryLocked(ctx, p)
	}
	if st.CommitIndex {
		return s.runCommitIndexLocked(p) // consistency.go
	}
	if st.SessionSeq != nil {
		return s.runSessionSeqLocked(ctx, p) // sequences.go
	}
	if st.Checksum {
		if err := s.waitConsistent(ctx); err != nil {
			return err
		}
		sum, _, err := s.srv.eng.Checksum(ctx)
		p.mat = [][]any{{sum}}
		return err
	}
	if st.ForUpdate && s.tx.state == txBlock {
		if err := s.ensureWriteLocked(ctx, st); err != nil {
			return err
		}
	}
	if s.tx.w != nil { // the block wrote: it reads where it writes, its catalog included
		rows, err := s.tx.w.query(ctx, st, p.args)
		if err != nil {
			return err
		}
		p.mat = rows
		return nil
	}
	if s.tx.state == txBlock && s.tx.snapshot() && !st.Catalog {
		rt, err := s.ensureReadLocked(ctx)
		if err != nil {
			return err
		}
		rows, err := rt.Query(s.readContext(p.rowsContext(ctx)), st.SQL, p.args)
		if err != nil {
			return err
		}
		p.rows = rows
		return nil
	}
	if err := s.waitConsistent(ctx); err != nil {
		return err
	}
	rows, err := s.srv.eng.Query(s.readContext(p.rowsContext(ctx)), st.SQL, p.args)
	if err != nil {
		return err
	}
	p.rows = rows
	return nil
}

// waitConsistent waits until this node has applied what the session's
// consistency level requires (docs/design.md §6).
func (s *session) waitConsistent(ctx context.Context) error {
	return s.consistencyWait(ctx) // consistency.go
}

// runWriteLocked runs INSERT/UPDATE/DELETE/DDL.
func (s *session) runWriteLocked(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error) {
	if s.readOnly() {
		return nil, pgerror.New(pgerror.ReadOnlySQLTransaction,
			"cannot execute %s in a read-only transaction", readOnlyVerb(st))
	}
	if s.tx.state != txBlock {
		if !pgwire.MoreBeforeSync(ctx) {
			return s.autocommitWrite(ctx, st, args)
		}
		s.beginImplicitLocked()
	}
	if err := s.ensureWriteLocked(ctx, st); err != nil {
		return nil, err
	}
	return s.tx.w.exec(ctx, st, args)
}

func readOnlyVerb(st *translate.Stmt) string {
	if st.Kind == translate.KindDDL {
		return strings.SplitN(st.Tag, " ", 2)[0] + " " + strings.SplitN(st.Tag+" ", " ", 3)[1]
	}
	return st.Tag
}

// autocommitWrite proposes one statement as its own entry and returns the
// leader's own Apply result. While no leader can take it (an election),
// it waits for one (awaitLeaderLocked).
func (s *session) autocommitWrite(ctx context.Context, st *translate.Stmt, args []any) (res *sqlengine.ExecResult, err error) {
	err = s.awaitLeaderLocked(ctx, func() error {
		res, err = s.autocommitWriteOnce(ctx, st, args)
		return err
	})
	return res, err
}

func (s *session) autocommitWriteOnce(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error) {
	if fwd, err := s.forwardWritesLocked(st); err != nil || fwd {
		if err != nil {
			return nil, err
		}
		return s.forwardAutocommitLocked(ctx, st, args)
	}
	exclusive := st.Kind == translate.KindDDL
	if err := s.srv.waitWritable(ctx); err != nil {
		return nil, err
	}
	if err := s.srv.admitWrite(); err != nil {
		return nil, err
	}
	if err := s.acquireGate(ctx, exclusive); err != nil {
		return nil, err
	}
	defer s.srv.gate.release(exclusive)
	ops, err := writeOps(ctx, s, st, args)
	if err != nil {
		return nil, err
	}
	// Run it to completion first (docs/design.md, "Every entry is safe to
	// replay"): a write that fails, is cancelled or runs out of its budget
	// never enters the log. The answer is still the entry's apply result.
	// An INSERT of constant VALUES does small, fixed work: it goes to the
	// log as it is (its errors are the entry's result, alike everywhere).
	// Either way it waits first for the pipelined transactions before it
	// (their epoch must commit before an entry of another kind applies).
	ec := s.execContext()
	if !st.Bounded || len(st.Post) > 0 {
		if _, err := s.srv.eng.PreRun(ctx, ec, ops); err != nil {
			return nil, contextError(ctx, err)
		}
	} else if _, err := s.srv.eng.Drain(ctx); err != nil {
		return nil, contextError(ctx, err)
	}
	ar, err := s.propose(ctx, &sqlengine.Payload{Ctx: ec, Ops: ops, StepBudget: sqlengine.MaxStatementSteps})
	if err != nil {
		return nil, err
	}
	for _, r := range ar.Results {
		if r.Err != nil {
			return nil, r.Err
		}
	}
	if len(ar.Results) == 0 {
		return nil, pgerror.New(pgerror.InternalError, "write returned no result")
	}
	return &ar.Results[0], nil
}

// writeOps are the log operations of a write statement.
func writeOps(ctx context.Context, s *session, st *translate.Stmt, args []any) ([]sqlengine.Op, error) {
	if st.Kind == translate.KindRole {
		op, err := s.roleOp(ctx, st) // roles.go
		if err != nil {
			return nil, err
		}
		return []sqlengine.Op{op}, nil
	}
	ops := []sqlengine.Op{{Kind: sqlengine.OpExec, SQL: st.SQL, Args: args, Rows: st.Returning}}
	for _, q := range st.Post {
		ops = append(ops, sqlengine.Op{Kind: sqlengine.OpExec, SQL: q})
	}
	return ops, nil
}

// acquireGate waits for the write gate, bounded by lock_timeout.
func (s *session) acquireGate(ctx context.Context, exclusive bool) error {
	gctx, cancel := ctx, context.CancelFunc(func() {})
	if d := s.set.duration("lock_timeout"); d > 0 {
		gctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	defer s.srv.metrics.observe(s.srv.metrics.gateWait, time.Now())
	err := s.srv.gate.acquire(gctx, exclusive)
	if err != nil && ctx.Err() == nil {
		return lockTimeoutError()
	}
	return err
}

// propose sends a payload through the log and waits for this node's Apply
// result. The session's read-your-writes index moves to the entry.
func (s *session) propose(ctx context.Context, p *sqlengine.Payload) (*sqlengine.ApplyResult, error) {
	data, err := sqlengine.EncodePayload(p)
	if err != nil {
		return nil, err
	}
	if len(data) > maxEntrySize {
		return nil, pgerror.New(pgerror.ProgramLimitExceeded,
			"transaction too large for one log entry (%d bytes, limit %d)", len(data), maxEntrySize)
	}
	return s.proposeData(ctx, data)
}

// proposeData is propose of an encoded payload.
func (s *session) proposeData(ctx context.Context, data []byte) (*sqlengine.ApplyResult, error) {
	pctx, stop := s.srv.proposeContext(ctx)
	defer stop()
	t0 := time.Now()
	index, resp, err := s.srv.repl.Propose(pctx, data)
	s.srv.metrics.observe(s.srv.metrics.commit, t0)
	if err != nil {
		return nil, s.proposeFailed(ctx, pctx, err) // pipeline.go
	}
	s.lastIndex = index
	ar, ok := resp.(*sqlengine.ApplyResult)
	if !ok {
		return nil, pgerror.New(pgerror.StatementCompletionUnknown, "write outcome unknown: no result from the log")
	}
	if ar.Err != nil {
		return nil, ar.Err
	}
	return ar, nil
}

// maxEntrySize bounds one log entry (pgraft.max_entry_size).
const maxEntrySize = 16 << 20
