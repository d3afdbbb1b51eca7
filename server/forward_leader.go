package server

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// forward_leader.go is the leader side of write forwarding: one internal
// session per forwarding connection, which runs the follower session's
// statements through the same machinery as a client's (Parse, start, the
// gate, speculative transactions, propose). The connection's goroutine is
// the mux's; it returns when the connection closes (the follower session
// ended, or Shutdown closed it), and the session's open transaction is then
// rolled back and its gate released.

// serveForward runs one forwarding connection. A reader goroutine, owned
// here and waited for on return, reads the frames: requests go to this
// goroutine one at a time (the follower sends the next only after the
// answer), and a cancel frame cancels the request it names while it runs,
// as a CancelRequest cancels a client's statement.
func (s *Server) serveForward(c net.Conn) {
	ls := &session{
		srv:    s,
		log:    s.log.With(logKeyComponent, "forward", logKeyRemote, addrString(c.RemoteAddr())),
		set:    newSettings(),
		remote: true,
	}
	defer ls.Close()
	s.forwardSessions.Add(1)
	defer s.forwardSessions.Add(-1)
	work := make(chan forwardWork)
	done := make(chan struct{})
	var running forwardRunning
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		s.readForwardRequests(ls, c, work, done, &running)
	}()
	defer func() {
		close(done)
		c.Close() // ends the reader's read
		wg.Wait()
	}()
	for w := range work {
		resp := ls.serveForwardRequest(w.ctx, w.req)
		running.finish(w.req.Seq)
		if s.closing.Load() {
			// Shutdown or Crash cancelled the work: the answer would be a
			// cancellation, not the outcome. Closing the link tells the
			// follower the truth: unknown for a commit, not done otherwise.
			return
		}
		err := writeForwardFrame(c, resp)
		if errors.Is(err, errFrameTooLarge) {
			ls.statementFailed(nil)
			err = writeForwardFrame(c, &fwdResponse{Err: errFrameTooLarge})
		}
		if err != nil {
			return
		}
	}
}

// forwardWork is one request and the context it runs under.
type forwardWork struct {
	ctx context.Context
	req *fwdRequest
}

// forwardRunning is the request a forwarding connection runs now, for its
// reader to cancel.
type forwardRunning struct {
	mu     sync.Mutex
	seq    uint64
	cancel context.CancelCauseFunc
}

func (r *forwardRunning) start(seq uint64, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	r.seq, r.cancel = seq, cancel
	r.mu.Unlock()
}

// cancelIf cancels the running request if it is seq: a cancel that arrives
// after its request was answered is dropped.
func (r *forwardRunning) cancelIf(seq uint64, cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil && r.seq == seq {
		r.cancel(cause)
	}
}

func (r *forwardRunning) finish(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seq == seq && r.cancel != nil {
		r.cancel(nil)
		r.seq, r.cancel = 0, nil
	}
}

// readForwardRequests reads frames until the connection fails or done
// closes. The request's context exists before it is handed over, so a
// cancel frame right behind it is never lost.
func (s *Server) readForwardRequests(ls *session, c net.Conn, work chan<- forwardWork, done <-chan struct{}, running *forwardRunning) {
	for {
		req := new(fwdRequest)
		if err := readForwardFrame(c, req, nil); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !s.closing.Load() {
				ls.log.Warn("closing forwarding connection", logKeyErr, err)
			}
			return
		}
		if req.Op == fwdCancel {
			cause := error(errCanceledByUser)
			if req.Cause != nil && req.Cause.Code == pgerror.QueryCanceled {
				cause = req.Cause // statement timeout or user request, as the follower saw it
			}
			running.cancelIf(req.Seq, cause)
			continue
		}
		ctx, cancel := context.WithCancelCause(s.bgCtx)
		running.start(req.Seq, cancel)
		select {
		case work <- forwardWork{ctx: ctx, req: req}:
		case <-done:
			cancel(nil)
			return
		}
	}
}

// serveForwardRequest runs one request in the leader-side session.
func (ls *session) serveForwardRequest(ctx context.Context, req *fwdRequest) *fwdResponse {
	ls.user, ls.login, ls.db = req.User, req.User, req.Database
	ls.set = &settings{values: cloneMap(req.Settings.Values), local: cloneMap(req.Settings.Local),
		custom: cloneMap(req.Settings.Custom)}
	ls.mu.Lock()
	ls.clock.forwarded = time.Time{}
	if ls.tx.state == txIdle {
		ls.clock.xact = time.Time{} // each request outside a block is its own transaction
	}
	if req.XactMicros != 0 {
		ls.clock.forwarded = time.UnixMicro(req.XactMicros)
	}
	ls.mu.Unlock()
	before := ls.lastIndex
	var resp *fwdResponse
	switch req.Op {
	case fwdExec:
		ls.seqs.adopt(req) // the follower session's currval and lastval (sequences.go)
		resp = ls.forwardedExec(ctx, req)
	case fwdDescribe:
		resp = ls.forwardedDescribe(ctx, req)
	case fwdBegin:
		resp = &fwdResponse{Tag: "BEGIN", Err: asPGError(ls.forwardedBegin(ctx, req))}
	case fwdCommit:
		ls.mu.Lock()
		sctx, stop := ls.statementContext(ctx)
		tag, err := ls.commitLocked(sctx)
		err = contextError(sctx, err)
		stop()
		ls.mu.Unlock()
		resp = &fwdResponse{Tag: tag, Err: asPGError(err)}
	case fwdRollback:
		ls.mu.Lock()
		ls.rollbackLocked()
		ls.mu.Unlock()
		resp = &fwdResponse{Tag: "ROLLBACK"}
	default:
		resp = &fwdResponse{Err: pgerror.New(pgerror.ProtocolViolation, "unknown forward operation %q", req.Op)}
	}
	if ls.lastIndex != before {
		resp.CommitIndex = ls.lastIndex
	}
	return resp
}

// forwardedBegin opens the block the follower's session has, with its
// savepoints. A follower that read on a snapshot before its first write
// sends the snapshot's data index: the block then becomes a writer at once
// and fails with 40001 if data changed since (DESIGN.md §4, step 2).
func (ls *session) forwardedBegin(ctx context.Context, req *fwdRequest) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.rollbackLocked() // a block left over from a broken exchange
	ls.beginLocked(&translate.TxOptions{Isolation: req.Isolation})
	ls.tx.savepoints = append([]string(nil), req.Savepoints...)
	if req.SnapshotIndex == 0 {
		return nil
	}
	sctx, stop := ls.statementContext(ctx)
	defer stop()
	err := ls.ensureWriteLocked(sctx, &translate.Stmt{Kind: translate.KindUpdate, Tag: "UPDATE"})
	if lw, ok := ls.tx.w.(*localWriter); err == nil && ok && lw.wt.Stale(req.SnapshotIndex) {
		err = pgerror.New(pgerror.SerializationFailure, "could not serialize access due to concurrent update")
	}
	if err != nil {
		ls.rollbackLocked()
		return contextError(sctx, err)
	}
	return nil
}

// forwardedExec runs one statement and collects its whole result.
func (ls *session) forwardedExec(ctx context.Context, req *fwdRequest) *fwdResponse {
	stmts, err := ls.Parse(ctx, req.SQL, req.ParamOIDs)
	if err == nil && len(stmts) != 1 {
		err = pgerror.New(pgerror.ProtocolViolation, "forwarded text holds %d statements, want 1", len(stmts))
	}
	if err != nil {
		return &fwdResponse{Err: asPGError(ls.statementFailed(err))}
	}
	stmt := stmts[0].(*statement)
	if len(req.Args) != len(stmt.st.ParamOIDs) {
		return &fwdResponse{Err: asPGError(ls.statementFailed(pgerror.New(pgerror.ProtocolViolation,
			"forwarded statement has %d arguments, want %d", len(req.Args), len(stmt.st.ParamOIDs))))}
	}
	args := req.Args // already in storage form
	if len(stmt.st.Bound) > 0 {
		args = stmt.st.Bound
	}
	p := &portal{stmt: stmt, args: args}
	p.loc = ls.set.location()
	p.started = true
	ctx, stop := ls.statementContext(ctx)
	defer stop()
	defer p.finish() // before stop: it unlinks the rows from ctx
	if err := ls.start(ctx, p); err != nil {
		return &fwdResponse{Err: asPGError(err)}
	}
	resp := &fwdResponse{}
	for _, v := range p.seqs {
		resp.SeqNames, resp.SeqValues, resp.SeqNextval = append(resp.SeqNames, v.Name), append(resp.SeqValues, v.Value), append(resp.SeqNextval, v.Nextval)
	}
	if p.done {
		resp.Tag = p.tag
		return resp
	}
	size := 0
	for {
		vals, ok, err := p.next()
		if err != nil {
			return &fwdResponse{Err: asPGError(ls.statementFailed(contextError(ctx, err)))}
		}
		if !ok {
			break
		}
		row := append([]any(nil), vals...)
		if size += rowSize(row); size > maxForwardFrame {
			return &fwdResponse{Err: asPGError(ls.statementFailed(errFrameTooLarge))}
		}
		resp.Rows = append(resp.Rows, row)
		p.count++
	}
	resp.Tag = p.completionTag(0)
	resp.RowsAffected = p.count
	return resp
}

// forwardedDescribe describes a statement in the leader-side block, where
// the block's own schema changes are visible. A statement that cannot be
// described fails only the describe: the follower fails its block itself.
func (ls *session) forwardedDescribe(ctx context.Context, req *fwdRequest) *fwdResponse {
	stmts, err := ls.Parse(ctx, req.SQL, req.ParamOIDs)
	if err == nil && len(stmts) != 1 {
		err = pgerror.New(pgerror.ProtocolViolation, "forwarded text holds %d statements, want 1", len(stmts))
	}
	if err != nil {
		return &fwdResponse{Err: asPGError(err)}
	}
	stmt := stmts[0].(*statement)
	cols, err := stmt.Columns(ctx)
	return &fwdResponse{Cols: cols, ParamOIDs: stmt.st.ParamOIDs, Err: asPGError(err)}
}

// rowSize estimates a row's encoded size, to refuse a result too large to
// send before encoding it.
func rowSize(row []any) int {
	n := 0
	for _, v := range row {
		switch x := v.(type) {
		case string:
			n += len(x) + 8
		case []byte:
			n += len(x) + 8
		default:
			n += 16
		}
	}
	return n
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// asPGError turns an error into what a response carries; nil stays nil.
func asPGError(err error) *pgerror.Error {
	if err == nil {
		return nil
	}
	if pe := pgerror.As(sqlengine.MapError(err)); pe != nil { // an SQLite error gets its SQLSTATE
		return pe
	}
	return pgerror.New(pgerror.InternalError, "%v", err)
}
