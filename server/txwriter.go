package server

import (
	"context"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// txwriter.go is where a transaction block runs once it writes (DESIGN.md
// §4, §6). At the block's first write, ensureWriteLocked picks one of two
// writers, and route.go and txn.go then call it without asking which:
//   - localWriter, on the leader: the block holds the write gate and the
//     borrowed write connection (sqlengine.WriteTx), its statements run
//     speculatively, and COMMIT proposes them as one entry;
//   - forwardedWriter, on a follower: the block runs in a leader-side
//     session over the session's link to the leader (forward.go), and
//     COMMIT commits it there.
//
// Cancellation is the statement's context in both: the local statement is
// interrupted, the forwarded one is cancelled on the leader.

// txWriter runs a writing transaction block. Its methods are called with
// session.mu held.
type txWriter interface {
	// exec runs a write of the block (and st.Post).
	exec(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error)
	// query runs a read in the block: it sees the block's own writes, and
	// a catalog query sees the block's own schema changes.
	query(ctx context.Context, st *translate.Stmt, args []any) ([][]any, error)
	// describe returns the columns of a statement on a table only the block
	// has (one it created); ok is false when it cannot tell.
	describe(ctx context.Context, st *translate.Stmt) (cols []pgwire.Column, ok bool, err error)
	// savepoint runs SAVEPOINT, RELEASE or ROLLBACK TO in the block; the
	// session has checked the name.
	savepoint(ctx context.Context, kind translate.Kind, name string) error
	// commit ends the block and returns its command tag. The session calls
	// rollback after it, to release what the block still holds.
	commit(ctx context.Context) (string, error)
	// rollback discards the block. It never fails and may follow commit.
	rollback()
	// holdsGate reports whether the block holds this node's write gate,
	// which the idle timer bounds (pgraft.idle_write_timeout).
	holdsGate() bool
}

// localWriter is a block on the leader: the write gate, held exclusively,
// and the speculative transaction on the borrowed write connection.
type localWriter struct {
	s    *session
	wt   *sqlengine.WriteTx
	gate *heldGate // until COMMIT hands the entry to raft (pipeline.go)
	// seen and the flags below decide whether rollback must log that the
	// block's nextval values are spent (sequences.go).
	seen         map[string][2]int64
	committed    bool // the block's entry applied without error
	rolledBackTo bool // a ROLLBACK TO may have undone a nextval the client saw
}

// beginLocalLocked makes the block a local writer: it takes the gate
// exclusively, borrows the write connection (on top of the pipelined
// writes before it), checks that a snapshot transaction read nothing that
// changed since, and replays the savepoints taken so far.
func (s *session) beginLocalLocked(ctx context.Context) (*localWriter, error) {
	if err := s.srv.waitWritable(ctx); err != nil {
		return nil, err
	}
	if err := s.srv.admitWrite(); err != nil {
		return nil, err
	}
	if err := s.acquireGate(ctx, true); err != nil {
		return nil, err
	}
	wt, err := s.srv.eng.BeginWrite(ctx, s.execContext(), false)
	if err != nil {
		s.srv.gate.release(true)
		return nil, err
	}
	w := &localWriter{s: s, wt: wt, gate: &heldGate{s: s, held: true}}
	if rt := s.tx.rt; rt != nil {
		if rt.DataIndex() != 0 && wt.Stale(rt.DataIndex()) {
			w.rollback()
			return nil, pgerror.New(pgerror.SerializationFailure, "could not serialize access due to concurrent update")
		}
		rt.Close()
		s.tx.rt = nil
	}
	s.speculative.Store(wt)
	for _, name := range s.tx.savepoints {
		if err := wt.Savepoint(ctx, name); err != nil {
			w.rollback()
			return nil, err
		}
	}
	return w, nil
}

func (w *localWriter) exec(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error) {
	if st.Kind == translate.KindRole {
		op, err := w.s.roleOp(ctx, st)
		if err != nil {
			return nil, err
		}
		return &sqlengine.ExecResult{}, w.wt.Role(ctx, op)
	}
	res, err := w.wt.Exec(ctx, st.SQL, args, st.Returning)
	if err != nil {
		return nil, err
	}
	w.noteSeqs(res.Seqs)
	for _, q := range st.Post {
		r, err := w.wt.Exec(ctx, q, nil, false)
		if err != nil {
			return nil, err
		}
		w.noteSeqs(r.Seqs)
	}
	if err := w.s.checkTxSize(w.wt.Size()); err != nil { // bigtxn.go
		return nil, err
	}
	return res, nil
}

func (w *localWriter) query(ctx context.Context, st *translate.Stmt, args []any) ([][]any, error) {
	query := w.wt.Query
	if st.Catalog {
		query = w.wt.CatalogQuery // the catalog as the block's own DDL left it
	}
	res, err := query(ctx, st.SQL, args)
	if err != nil {
		return nil, err
	}
	return res.Rows, nil
}

func (w *localWriter) describe(ctx context.Context, st *translate.Stmt) ([]pgwire.Column, bool, error) {
	info, err := w.wt.Describe(ctx, st.SQL)
	if err != nil {
		return nil, true, err
	}
	return columnsOf(st, info), true, nil
}

func (w *localWriter) savepoint(ctx context.Context, kind translate.Kind, name string) error {
	switch kind {
	case translate.KindSavepoint:
		return w.wt.Savepoint(ctx, name)
	case translate.KindRelease:
		return w.wt.Release(ctx, name)
	}
	w.rolledBackTo = w.rolledBackTo || len(w.seen) > 0
	return w.wt.RollbackTo(ctx, name)
}

// commit seals the block into the pipeline, hands its entry to raft,
// passes the gate on and waits for its outcome (pipeline.go).
func (w *localWriter) commit(ctx context.Context) (string, error) {
	_, err := w.s.commitWrite(ctx, w.wt, w.gate)
	w.committed = err == nil
	return "COMMIT", err
}

func (w *localWriter) rollback() {
	if w.wt == nil {
		return
	}
	w.wt.Rollback()
	w.wt = nil
	w.s.speculative.Store(nil)
	if len(w.seen) > 0 && (!w.committed || w.rolledBackTo) {
		w.s.advanceSequencesLocked(w.seen, w.gate) // sequences.go
	}
	w.gate.release()
}

func (w *localWriter) holdsGate() bool { return w.gate.held }

// forwardedWriter is a block on a follower, run by a leader-side session
// over the session's forward link (forward.go).
type forwardedWriter struct{ s *session }

func (w forwardedWriter) exec(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error) {
	return w.s.forwardWriteLocked(ctx, st, args)
}

func (w forwardedWriter) query(ctx context.Context, st *translate.Stmt, args []any) ([][]any, error) {
	resp, err := w.s.forwardStmtLocked(ctx, st.Source, st.ParamOIDs, clientArgs(st, args))
	if err != nil {
		return nil, err
	}
	return resp.Rows, nil
}

func (w forwardedWriter) describe(ctx context.Context, st *translate.Stmt) ([]pgwire.Column, bool, error) {
	return w.s.describeForwardedLocked(ctx, st)
}

func (w forwardedWriter) savepoint(ctx context.Context, kind translate.Kind, name string) error {
	return w.s.forwardSavepointLocked(ctx, kind, name)
}

func (w forwardedWriter) commit(ctx context.Context) (string, error) {
	return w.s.forwardCommitLocked(ctx)
}

func (w forwardedWriter) rollback() { w.s.forwardRollbackLocked() }

func (w forwardedWriter) holdsGate() bool { return false }
