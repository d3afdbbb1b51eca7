package server

import (
	"context"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// forward.go is the follower side of write forwarding (DESIGN.md §7). A
// write on a follower goes to the leader over a connection on its Raft port
// that the session dials on its first forwarded write and closes with
// itself:
//   - an autocommit write is one request; the leader proposes it and
//     answers with its result and the entry's index;
//   - a transaction block whose first write happens here opens a block in
//     a leader-side session (with its isolation and savepoints), and every
//     later statement of the block that is not node-local (reads included)
//     runs there until COMMIT or ROLLBACK.
//
// The follower's own transaction state (txn.go) stays authoritative for
// what the client sees (TxStatus, 25P02); the leader-side block mirrors it.
// The session's read-your-writes index moves to every index the leader
// returns. A link that fails before a request was surely delivered is
// 40001 (retryable); one that fails while a COMMIT or an autocommit write
// is in flight is 40003: the outcome is unknown, never a false success.

// Follower write modes (Config.FollowerWrites).
const (
	FollowerWritesForward = "forward" // forward to the leader (the default)
	FollowerWritesReject  = "reject"  // answer 25006, as a PostgreSQL standby does
)

// leaderLink is what forwarding needs from replication: where the leader
// is, and a connection to its Raft port whose first byte routes it to the
// leader's HandleRPC handler (serveForward).
type leaderLink interface {
	Leader() (id, addr string) // "" when no leader is known
	DialRPC(ctx context.Context, addr string, b byte) (net.Conn, error)
}

// forwardDialTimeout bounds connecting to the leader.
const forwardDialTimeout = 2 * time.Second

// forwardLink is a session's connection to its leader-side session. Only
// the session's connection goroutine uses it, under session.mu.
type forwardLink struct {
	conn     net.Conn
	addr     string // Raft address of the leader conn reaches
	seq      uint64 // number of the last request sent over conn
	lastUse  time.Time
	idle     *time.Timer // closes conn after forwardLinkIdle without use
	pinned   bool        // advisory locks may be held through conn: never idle-closed
	inTx     bool        // the leader-side session holds this session's transaction block
	broken   bool        // the link failed inside that block: it cannot go on
	txDDL    bool        // the forwarded block changed the schema
	ddlIndex uint64      // a forwarded schema change this node may not have applied yet
}

// forwardWritesLocked reports whether a write must go to the leader: this
// node does not lead and forwarding is on. With forwarding off it is 25006.
// Leader-side sessions never forward (they answer 40001 once deposed).
func (s *session) forwardWritesLocked(st *translate.Stmt) (bool, error) {
	if s.remote || s.srv.isLeader() {
		return false, nil
	}
	if s.srv.cfg.FollowerWrites == FollowerWritesReject {
		return false, pgerror.New(pgerror.ReadOnlySQLTransaction,
			"cannot execute %s in a read-only transaction", readOnlyVerb(st)).
			WithHint("This node is a follower and does not forward writes (--follower-writes=reject); connect to the leader.")
	}
	return true, nil
}

// forwardsUndescribed reports whether a statement whose columns this node
// cannot describe may still run, because the leader runs it and rows do not
// come back (or the block is forwarded already, as speculative blocks do).
func (s *session) forwardsUndescribed(st *translate.Stmt) bool {
	if s.fwd.inTx {
		return true
	}
	if !st.Kind.IsWrite() || st.Returning || s.tx.state == txBlock {
		return false
	}
	fwd, err := s.forwardWritesLocked(st)
	return fwd && err == nil
}

// describeForwardedLocked describes a statement of the session's forwarded
// block on the leader, where the block's own schema changes are. ok is
// false when the block's link is gone.
func (s *session) describeForwardedLocked(ctx context.Context, st *translate.Stmt) (cols []pgwire.Column, ok bool, err error) {
	if !s.fwd.inTx || s.fwd.broken || s.fwd.conn == nil {
		return nil, false, nil
	}
	resp, err := s.roundTripLocked(ctx, &fwdRequest{Op: fwdDescribe, SQL: st.Source, ParamOIDs: st.ParamOIDs}, false)
	if err != nil {
		return nil, true, err
	}
	return resp.Cols, true, nil
}

// inForwardedDDLBlock reports whether the session's block runs on the
// leader (forwarded) and changed the schema there.
func (s *session) inForwardedDDLBlock() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fwd.inTx && s.fwd.txDDL && !s.fwd.broken && s.fwd.conn != nil && s.tx.state == txBlock
}

// parseForwarded translates a statement of a forwarded block that changed
// the schema: the leader-side block has the new tables, so the leader tells
// the parameter types (for the client's own paramOIDs) and the columns,
// which this node's schema cannot. ok is false outside such a block.
func (s *session) parseForwarded(ctx context.Context, st *translate.Stmt, sql string, paramOIDs []uint32) (*statement, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fwd.inTx || !s.fwd.txDDL || s.fwd.broken || s.fwd.conn == nil || s.tx.state != txBlock {
		return nil, false, nil
	}
	if st.Advisory != "" || st.Kind != translate.KindSelect && (!st.Kind.IsWrite() || st.Kind == translate.KindDDL || st.Kind == translate.KindRole) {
		return nil, false, nil // nothing here depends on the block's tables
	}
	resp, err := s.roundTripLocked(ctx, &fwdRequest{Op: fwdDescribe, SQL: sql, ParamOIDs: paramOIDs}, false)
	if err != nil {
		return nil, true, err
	}
	if len(resp.ParamOIDs) != len(st.ParamOIDs) {
		return nil, true, pgerror.New(pgerror.InternalError,
			"the leader sees %d parameters in the statement, this node %d", len(resp.ParamOIDs), len(st.ParamOIDs))
	}
	own := *st // translations are shared: change a copy
	own.ParamOIDs = resp.ParamOIDs
	return &statement{s: s, st: &own, cols: resp.Cols, done: true, private: true}, true, nil
}

// forwardAutocommitLocked sends one autocommit write to the leader.
func (s *session) forwardAutocommitLocked(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error) {
	if err := s.dialLeaderLocked(ctx); err != nil {
		return nil, err
	}
	req := &fwdRequest{Op: fwdExec, SQL: st.Source, ParamOIDs: st.ParamOIDs, Args: clientArgs(st, args)}
	s.seqs.send(req) // sequences.go
	resp, err := s.roundTripLocked(ctx, req, true)
	if err != nil {
		return nil, err
	}
	if st.Kind == translate.KindDDL {
		s.fwd.ddlIndex = resp.CommitIndex
	}
	return &sqlengine.ExecResult{RowsAffected: tagCount(resp.Tag), Rows: resp.Rows, Seqs: resp.seqValues()}, nil
}

// forwardWriteLocked runs a write of a forwarded block on the leader.
func (s *session) forwardWriteLocked(ctx context.Context, st *translate.Stmt, args []any) (*sqlengine.ExecResult, error) {
	resp, err := s.forwardStmtLocked(ctx, st.Source, st.ParamOIDs, clientArgs(st, args))
	if err != nil {
		return nil, err
	}
	if st.Kind == translate.KindDDL {
		s.fwd.txDDL = true
	}
	return &sqlengine.ExecResult{RowsAffected: tagCount(resp.Tag), Rows: resp.Rows, Seqs: resp.seqValues()}, nil
}

// clientArgs is what a forwarded statement's text needs besides itself:
// the client's arguments, not the constants of the text (translate.Shape),
// which the leader finds in the text again.
func clientArgs(st *translate.Stmt, args []any) []any {
	if len(st.Bound) > 0 {
		return nil
	}
	return args
}

// forwardStmtLocked runs one statement of a forwarded block on the leader.
func (s *session) forwardStmtLocked(ctx context.Context, sql string, oids []uint32, args []any) (*fwdResponse, error) {
	if s.fwd.broken || s.fwd.conn == nil {
		return nil, errLinkLost()
	}
	req := &fwdRequest{Op: fwdExec, SQL: sql, ParamOIDs: oids, Args: args}
	s.seqs.send(req) // sequences.go
	return s.roundTripLocked(ctx, req, false)
}

// startForwardingLocked makes the session's block a forwarded one: the
// leader-side session opens the same block, with the savepoints taken so
// far. A held snapshot is handed over as its data index (the leader checks
// that nothing changed since, under REPEATABLE READ and SERIALIZABLE).
func (s *session) startForwardingLocked(ctx context.Context) error {
	if err := s.dialLeaderLocked(ctx); err != nil {
		return err
	}
	req := &fwdRequest{Op: fwdBegin, Isolation: s.tx.isolation, Savepoints: s.tx.savepoints}
	if s.tx.rt != nil {
		req.SnapshotIndex = s.tx.rt.DataIndex()
	}
	if _, err := s.roundTripLocked(ctx, req, false); err != nil {
		return err
	}
	s.fwd.inTx, s.fwd.broken, s.fwd.txDDL = true, false, false
	if s.tx.rt != nil { // reads now run on the leader, in the block
		s.tx.rt.Close()
		s.tx.rt = nil
	}
	return nil
}

// forwardCommitLocked commits the forwarded block on the leader.
func (s *session) forwardCommitLocked(ctx context.Context) (string, error) {
	s.fwd.inTx = false
	if s.fwd.broken || s.fwd.conn == nil {
		s.fwd.broken = false
		return "ROLLBACK", errLinkLost()
	}
	resp, err := s.roundTripLocked(ctx, &fwdRequest{Op: fwdCommit}, true)
	if err != nil {
		return "COMMIT", err
	}
	if s.fwd.txDDL {
		s.fwd.ddlIndex = resp.CommitIndex
	}
	return resp.Tag, nil
}

// forwardRollbackLocked ends the forwarded block on the leader, if any.
// Best effort: a link that fails is closed, and the leader rolls a closed
// link's block back itself.
func (s *session) forwardRollbackLocked() {
	if !s.fwd.inTx {
		return
	}
	s.fwd.inTx = false
	if s.fwd.broken || s.fwd.conn == nil {
		s.fwd.broken = false
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), forwardDialTimeout)
	defer cancel()
	if _, err := s.roundTripLocked(ctx, &fwdRequest{Op: fwdRollback}, false); err != nil && pgerror.As(err) == nil {
		s.closeForwardLink()
	}
}

// forwardSavepointLocked replays SAVEPOINT, RELEASE or ROLLBACK TO in the
// leader-side block.
func (s *session) forwardSavepointLocked(ctx context.Context, kind translate.Kind, name string) error {
	verb := map[translate.Kind]string{translate.KindSavepoint: "SAVEPOINT ",
		translate.KindRelease: "RELEASE SAVEPOINT ", translate.KindRollbackTo: "ROLLBACK TO SAVEPOINT "}[kind]
	_, err := s.forwardStmtLocked(ctx, verb+quoteIdent(name), nil, nil)
	return err
}

// dialLeaderLocked connects to the current leader, reusing a connection to
// it. No leader known, or none reachable, is a retryable error at once;
// the caller may wait for a leader and dial again (awaitLeaderLocked).
func (s *session) dialLeaderLocked(ctx context.Context) error {
	_, addr := s.srv.link.Leader()
	if s.fwd.conn != nil && s.fwd.addr == addr {
		return nil
	}
	s.closeForwardLink()
	if addr == "" {
		return pgerror.New(pgerror.SerializationFailure, msgNoLeader).
			WithHint("Retry the transaction once a leader is elected.")
	}
	dctx, cancel := context.WithTimeout(ctx, forwardDialTimeout)
	defer cancel()
	c, err := s.srv.link.DialRPC(dctx, addr, forwardRPCByte)
	if err != nil {
		if ctx.Err() != nil {
			return contextError(ctx, err)
		}
		return pgerror.New(pgerror.SerializationFailure, msgUnreachable+"%s: %v; the write was not applied", addr, err).
			WithHint("Retry the transaction.")
	}
	s.fwd.conn, s.fwd.addr = c, addr
	return nil
}

// roundTripLocked sends one request with the session's identity and
// settings and reads its answer. inFlightUnknown says whether a lost answer
// leaves the outcome unknown (a COMMIT or an autocommit write: 40003) or
// means nothing was committed (40001). When the statement's context ends
// (CancelRequest, statement_timeout) the leader is asked to cancel the
// request and its answer is awaited for forwardCancelGrace: the client
// gets what the leader did, 57014 or the result, as on the leader itself.
// The wait also ends when another node becomes the leader.
func (s *session) roundTripLocked(ctx context.Context, req *fwdRequest, inFlightUnknown bool) (*fwdResponse, error) {
	s.srv.metrics.forwarded.WithLabelValues(req.Op).Inc()
	req.User, req.Database = s.user, s.db
	req.Settings = fwdSettings{Values: maps.Clone(s.set.values), Local: maps.Clone(s.set.local), Custom: maps.Clone(s.set.custom)}
	req.XactMicros = s.xactTime().UnixMicro()
	s.fwd.seq++
	req.Seq = s.fwd.seq
	c := s.fwd.conn
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	} else {
		_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	}
	if err := writeForwardFrame(c, req); err != nil {
		if pe := pgerror.As(err); pe != nil {
			return nil, pe // too large: nothing was sent
		}
		s.linkFailed()
		return nil, errLinkLost() // a frame not fully sent is never run
	}
	// Wake the read as soon as the statement ends, not at the next poll.
	stopWake := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stopWake()
	defer s.touchLinkLocked()
	var resp fwdResponse
	if err := readForwardFrame(c, &resp, s.forwardWaitCheck(ctx, req.Seq)); err != nil {
		s.linkFailed()
		if inFlightUnknown {
			return nil, pgerror.New(pgerror.StatementCompletionUnknown,
				"the write may or may not have committed: the connection to the leader was lost while it was in flight (%v)", err)
		}
		if pe := pgerror.As(err); pe != nil && pe.Code == pgerror.QueryCanceled {
			return nil, pe
		}
		return nil, errLinkLost()
	}
	if resp.CommitIndex > s.lastIndex {
		s.lastIndex = resp.CommitIndex
	}
	if resp.Err != nil {
		return &resp, resp.Err
	}
	return &resp, nil
}

// linkIdle is how long a link outside a forwarded block stays open without
// use (Config.ForwardIdleTimeout): a follower session that wrote once must
// not hold a leader-side session (and its goroutines) for as long as the
// client stays.
func (s *session) linkIdle() time.Duration {
	if d := s.srv.cfg.ForwardIdleTimeout; d > 0 {
		return d
	}
	return time.Minute
}

// touchLinkLocked records a use of the link and arms its idle timer.
func (s *session) touchLinkLocked() {
	if s.fwd.conn == nil {
		return
	}
	s.fwd.lastUse = time.Now()
	if s.fwd.idle == nil {
		s.fwd.idle = time.AfterFunc(s.linkIdle(), s.closeIdleLink)
		return
	}
	s.fwd.idle.Reset(s.linkIdle())
}

// closeIdleLink is the idle timer's: it closes a link that is idle, in no
// forwarded block and holding no advisory locks.
func (s *session) closeIdleLink() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fwd.conn == nil || s.fwd.inTx || s.fwd.pinned {
		return
	}
	if wait := s.linkIdle() - time.Since(s.fwd.lastUse); wait > 0 {
		s.fwd.idle.Reset(wait)
		return
	}
	s.closeForwardLink()
}

// forwardCancelGrace is how long a follower waits for the leader's answer
// to a request it asked the leader to cancel, before it gives up the link.
const forwardCancelGrace = 3 * time.Second

// forwardWaitCheck is asked while a request's answer has not arrived: it
// ends the wait when the leader changes, sends the leader a cancel for seq
// once the statement's context has ended, and ends the wait if no answer
// follows within forwardCancelGrace.
func (s *session) forwardWaitCheck(ctx context.Context, seq uint64) func() error {
	c, addr := s.fwd.conn, s.fwd.addr
	var cancelSent time.Time
	return func() error {
		if _, now := s.srv.link.Leader(); now != addr {
			return errLeaderChanged
		}
		if ctx.Err() == nil {
			return nil
		}
		cause := contextError(ctx, ctx.Err())
		if cancelSent.IsZero() {
			cancelSent = time.Now()
			_ = c.SetWriteDeadline(time.Now().Add(forwardDialTimeout))
			if err := writeForwardFrame(c, &fwdRequest{Op: fwdCancel, Seq: seq, Cause: asPGError(cause)}); err != nil {
				return cause
			}
			return nil
		}
		if time.Since(cancelSent) > forwardCancelGrace {
			return cause
		}
		return nil
	}
}

var errLeaderChanged = pgerror.New(pgerror.SerializationFailure, "leadership changed while the statement ran on the leader")

func errLinkLost() error {
	return pgerror.New(pgerror.SerializationFailure,
		"the connection to the leader was lost; the transaction was not committed").
		WithHint("Retry the transaction; it will go to the new leader.")
}

// linkFailed closes a link that can no longer be trusted; a block that was
// forwarded over it cannot go on.
func (s *session) linkFailed() {
	s.closeForwardLink()
	if s.fwd.inTx {
		s.fwd.broken = true
	}
}

// closeForwardLink closes the connection to the leader, if any; the leader
// then rolls back whatever block the leader-side session held.
func (s *session) closeForwardLink() {
	if s.fwd.conn != nil {
		s.fwd.conn.Close()
		s.fwd.conn, s.fwd.addr, s.fwd.seq, s.fwd.pinned = nil, "", 0, false
	}
	if s.fwd.idle != nil {
		s.fwd.idle.Stop()
	}
}

// tagCount is the row count at the end of a command tag ("INSERT 0 3": 3).
func tagCount(tag string) int64 {
	i := strings.LastIndexByte(tag, ' ')
	n, err := strconv.ParseInt(tag[i+1:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
