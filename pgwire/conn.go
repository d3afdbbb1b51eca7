package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// flushThreshold is how much output may pile up before it is written even
// though no sync point was reached: long results stream instead of sitting
// whole in memory.
const flushThreshold = 64 << 10

// conn is one client connection. Everything but mu's fields belongs to the
// connection's goroutine.
type conn struct {
	srv *Server
	log *slog.Logger
	ctx context.Context // cancelled by Server.Close, by checkPeer, and when serve returns

	cancelCtx context.CancelCauseFunc

	mu   sync.Mutex // guards the fields below, touched by Shutdown, Close, CancelRequest and checkPeer
	nc   net.Conn   // replaced by its TLS wrapper after an SSLRequest
	sess Session    // set once NewSession returned
	idle bool       // blocked reading right after a ReadyForQuery

	check      *time.Timer // runs checkPeer while the connection is busy (peer.go)
	checkArmed bool        // check is scheduled or running
	released   bool        // release ran: no more checks

	be    *pgproto3.Backend
	wbuf  []byte // pending output, written at sync points
	werr  error  // sticky write or encode error: the connection is over
	types *pgtype.Map

	pid, secret uint32
	sentParams  map[string]string // ParameterStatus values the client has

	stmts           map[string]*prepared
	portals         map[string]*portal
	ignoreUntilSync bool                     // an extended-protocol error happened: skip to Sync
	ready           bool                     // the last thing sent was ReadyForQuery
	pending         pgproto3.FrontendMessage // read ahead by runExecute, dispatched next
	request         uint64                   // the client request messages belong to (RequestID)

	scratch []byte   // encoded values of the row being sent
	values  [][]byte // DataRow fields, slices of scratch
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	ctx, cancel := context.WithCancelCause(s.baseCtx)
	return &conn{
		srv:       s,
		log:       s.log.With(logKeyConn, id, logKeyRemote, nc.RemoteAddr().String()),
		ctx:       ctx,
		cancelCtx: cancel,
		nc:        nc,
		types:     pgtype.NewMap(),
		stmts:     make(map[string]*prepared),
		portals:   make(map[string]*portal),
		scratch:   make([]byte, 0, 1024),
	}
}

// serve runs the connection to its end. Deferred calls run in reverse: the
// panic is recovered first, then the session and socket are released.
func (c *conn) serve() {
	defer c.release()
	defer c.recoverPanic()
	if !c.startup() {
		return
	}
	c.readMessages()
}

// recoverPanic turns a panic on this connection, a Session's included, into a
// logged error and a FATAL XX000 for this client alone.
func (c *conn) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	c.log.Error("panic in connection", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	c.werr = nil // best effort: the client may still be listening
	c.send(errorResponse(&pgerror.Error{
		Severity: pgerror.SeverityFatal, Code: pgerror.InternalError, Message: "internal error",
	}))
	c.flush()
}

// release closes the portals, statements and session, unregisters the cancel
// key and closes the socket. Each Session call is guarded so that a panic in
// one still lets the others run.
func (c *conn) release() {
	c.srv.forgetKey(c)
	for _, pt := range c.portals {
		c.guard("close portal", func() { c.closePortal(pt) })
	}
	for _, ps := range c.stmts {
		c.guard("close statement", func() { c.dropStatement(ps) })
	}
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	c.mu.Unlock()
	if sess != nil {
		c.guard("close session", sess.Close)
	}
	c.cancelCtx(nil)
	c.mu.Lock()
	c.stopCheckLocked()
	c.nc.Close()
	c.mu.Unlock()
}

func (c *conn) guard(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in "+what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	f()
}

// interruptIfIdle makes an idle connection's pending read fail now, so that
// it sees the server closing; a busy one notices at its next ReadyForQuery.
func (c *conn) interruptIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle {
		c.nc.SetReadDeadline(time.Now())
	}
}

// forceClose is Server.Close's part: stop whatever the session runs and drop
// the socket, which fails the goroutine's pending read or write.
func (c *conn) forceClose() {
	c.cancelCtx(nil)
	c.mu.Lock()
	sess := c.sess
	c.nc.Close()
	c.mu.Unlock()
	if sess != nil {
		c.guard("cancel session", sess.Cancel)
	}
}

// setIdle records whether the goroutine is about to block reading right after
// a ReadyForQuery; a busy connection has its client checked (peer.go). It
// reports false when the server is closing and the connection should end
// instead.
func (c *conn) setIdle(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = idle
	if !idle {
		c.armCheckLocked()
	}
	return !(idle && c.srv.closing.Load())
}

// readMessages is the protocol loop: read one message, dispatch it, repeat
// until Terminate, a broken socket or a FATAL error.
func (c *conn) readMessages() {
	for c.werr == nil {
		if c.ready && !c.setIdle(true) {
			c.sendFatal(adminShutdown())
			return
		}
		msg, err := c.receive()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.ready = false
		if !c.dispatch(msg) {
			return
		}
		if context.Cause(c.ctx) == errClientGone {
			c.log.Debug("connection to client lost")
			return
		}
	}
	c.log.Debug("write failed; closing", logKeyErr, c.werr)
}

// dispatch handles one message; false ends the connection.
func (c *conn) dispatch(msg pgproto3.FrontendMessage) bool {
	switch msg.(type) {
	case *pgproto3.Sync:
		c.ignoreUntilSync = false
		defer c.nextRequest()
		return c.sync()
	case *pgproto3.Query:
		c.nextRequest()
		defer c.nextRequest()
	case *pgproto3.Terminate:
		return false
	}
	if c.ignoreUntilSync {
		return true // PostgreSQL skips everything up to Sync after an extended-protocol error
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		return c.runSimpleQuery(m.String)
	case *pgproto3.Execute:
		return c.runExecute(m)
	case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Close:
		return c.runExtended(m)
	case *pgproto3.Flush:
		defer c.nextRequest()
		return c.flush() == nil
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		return true // PostgreSQL ignores these outside COPY: a COPY may have failed early
	case *pgproto3.FunctionCall:
		if c.sendError(pgerror.Unsupported("the fastpath function call protocol")) {
			return false
		}
		return c.readyForQuery()
	default:
		c.sendFatal(protocolViolation("unexpected message type %T", msg))
		return false
	}
}

// nextRequest starts a new client request: after a point where the client
// can have seen answers (Sync, Flush) and around a simple Query.
func (c *conn) nextRequest() { c.request++ }

// reqCtx is the context of a call into the session for the current
// request (RequestID).
func (c *conn) reqCtx() context.Context { return withRequestID(c.ctx, c.request) }

// receive returns the message read ahead by runExecute, if any, else the
// next one from the socket.
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	if m := c.pending; m != nil {
		c.pending = nil
		return m, nil
	}
	msg, err := c.be.Receive()
	c.setIdle(false)
	return msg, err
}

// runExecute runs an Execute once the message after it is known: whether
// the client sent more before the next Sync decides whether a write may
// commit alone (Handler's MoreBeforeSync). The client owes us that message
// anyway, since it gets no output before a Sync or Flush. A connection that
// breaks before it runs nothing, as PostgreSQL's implicit transaction would
// roll back.
func (c *conn) runExecute(m *pgproto3.Execute) bool {
	ex := *m // Receive reuses its buffers; Execute holds only copied fields
	next, err := c.be.Receive()
	if err != nil {
		c.readFailed(err)
		return false
	}
	c.pending = next
	_, isSync := next.(*pgproto3.Sync)
	if err := c.execute(withMoreBeforeSync(c.reqCtx(), !isSync), &ex); err != nil {
		c.ignoreUntilSync = true
		if c.sendError(err) {
			c.flush()
			return false
		}
	}
	return c.werr == nil
}

// sync ends a sync point: the session ends its implicit transaction, whose
// commit may fail, then ReadyForQuery.
func (c *conn) sync() bool {
	if err := c.sess.Sync(c.ctx); err != nil && c.sendError(err) {
		return false
	}
	return c.readyForQuery()
}

// readFailed answers a read error: nothing for a closed socket, 57P01 for a
// read interrupted by Shutdown, FATAL 08P01 or 54000 for bad bytes.
func (c *conn) readFailed(err error) {
	var ne net.Error
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	switch {
	case errors.As(err, &tooBig):
		c.sendFatal(&pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.ProgramLimitExceeded,
			Message: fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)})
	case errors.As(err, &ne) && ne.Timeout() && c.srv.closing.Load():
		c.sendFatal(adminShutdown())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.As(err, &ne):
		c.log.Debug("connection read ended", logKeyErr, err)
	default:
		c.sendFatal(protocolViolation("invalid frontend message: %v", err))
	}
}

// send appends msg to the output buffer. An encoding error (a field too long
// for the protocol) ends the connection: the stream can no longer be trusted.
func (c *conn) send(msg pgproto3.BackendMessage) {
	if c.werr != nil {
		return
	}
	n := len(c.wbuf)
	buf, err := msg.Encode(c.wbuf)
	if err != nil {
		c.wbuf = c.wbuf[:n]
		c.werr = fmt.Errorf("encode %T: %w", msg, err)
		c.log.Error("cannot encode message", logKeyErr, err)
		return
	}
	c.wbuf = buf
}

// flush writes the pending output in one write.
func (c *conn) flush() error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.wbuf) == 0 {
		return nil
	}
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	_, err := nc.Write(c.wbuf)
	if cap(c.wbuf) > 4*flushThreshold {
		c.wbuf = nil // a huge result should not pin its buffer for the connection's life
	} else {
		c.wbuf = c.wbuf[:0]
	}
	if err != nil {
		c.werr = fmt.Errorf("write: %w", err)
	}
	return c.werr
}

// readyForQuery ends a sync point: changed parameters, ReadyForQuery, one
// write. Outside a transaction block no portal survives, as in PostgreSQL.
func (c *conn) readyForQuery() bool {
	c.sendParameterChanges()
	status := c.sess.TxStatus()
	if status == 'I' {
		for _, pt := range c.portals {
			c.closePortal(pt)
		}
	}
	c.send(&pgproto3.ReadyForQuery{TxStatus: status})
	c.ready = true
	return c.flush() == nil
}
