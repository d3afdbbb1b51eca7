package server

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/replica"
)

// forward_proto.go is the wire format of write forwarding (DESIGN.md §7):
// a follower session sends requests over a connection on the leader's Raft
// port (first byte forwardRPCByte) and reads one response per request, in
// order. Each is one frame of replica's node-to-node codec
// (replica/frame.go); a frame longer than maxForwardFrame closes the
// connection that sent it. Arguments and rows travel as replica.Values and
// replica.Rows, which keep every storage value's Go type.

// forwardRPCByte routes a connection on the shared Raft port to the
// leader-side forwarding handler.
const forwardRPCByte byte = 'F'

// maxForwardFrame bounds one request or response: a log entry's limit plus
// room for the arguments' and rows' encoding.
const maxForwardFrame = maxEntrySize + 16<<20

// Operations of a forward request.
const (
	fwdExec     = "exec"     // run SQL in the leader-side session
	fwdBegin    = "begin"    // open the transaction block the follower's session has
	fwdCommit   = "commit"   // COMMIT the leader-side block
	fwdRollback = "rollback" // ROLLBACK the leader-side block
	fwdDescribe = "describe" // describe one statement in the leader-side block
	fwdCancel   = "cancel"   // cancel request Seq if it still runs; not answered
)

// fwdSettings is the follower session's parameters, applied to the
// leader-side session before every request, so SET and SET LOCAL need no
// replay.
type fwdSettings struct {
	Values, Local, Custom map[string]string
}

// fwdRequest is one request of a follower session.
type fwdRequest struct {
	Op       string
	Seq      uint64 // numbers the link's requests from 1, for fwdCancel
	User     string
	Database string
	Settings fwdSettings
	// XactMicros is the start of the follower session's transaction (µs
	// since the epoch, clock.go): the leader's entries take it as their
	// time, clamped; 0 from a build before it.
	XactMicros int64

	// fwdExec: one statement's PostgreSQL text, the parameter types the
	// follower resolved, and its arguments already in storage form.
	SQL       string
	ParamOIDs []uint32
	Args      replica.Values

	// fwdBegin: the block's state on the follower.
	Isolation     string
	Savepoints    []string
	SnapshotIndex uint64 // data index of the follower's held snapshot; 0 if none

	// fwdCancel: why the follower's statement ended (57014: statement
	// timeout or user request).
	Cause *pgerror.Error

	// fwdExec: the follower session's currval values and lastval's
	// sequence, which the statement may read (sequences.go).
	SeqNames  []string
	SeqValues []int64
	LastSeq   string
}

// fwdResponse answers one fwdRequest.
type fwdResponse struct {
	Err          *pgerror.Error
	Tag          string
	RowsAffected int64
	Rows         replica.Rows    // storage values
	CommitIndex  uint64          // index of the entry this request committed; 0 if none
	Cols         []pgwire.Column // fwdDescribe: the statement's row description
	ParamOIDs    []uint32        // fwdDescribe: the statement's parameter types
	// SeqNames and SeqValues are the sequence values the write produced
	// (the leader-side session's currval/lastval), SeqNextval which came
	// from nextval: the follower session keeps them (sequences.go).
	SeqNames   []string
	SeqValues  []int64
	SeqNextval []bool
}

// writeForwardFrame writes v as one frame. A frame over the limit is
// errFrameTooLarge, and nothing was sent.
func writeForwardFrame(w io.Writer, v any) error {
	err := replica.WriteFrame(w, v, maxForwardFrame)
	if errors.Is(err, replica.ErrFrameTooLarge) {
		return errFrameTooLarge
	}
	return err
}

var errFrameTooLarge = pgerror.New(pgerror.ProgramLimitExceeded,
	"forwarded statement or result exceeds %d bytes", maxForwardFrame)

// readForwardFrame reads one frame into v. check, when not nil, is asked
// every pollInterval while the frame has not arrived; its error ends the
// wait (the caller closes the connection: a half-read frame is lost).
func readForwardFrame(c net.Conn, v any, check func() error) error {
	if check == nil {
		_ = c.SetReadDeadline(time.Time{})
		return replica.ReadFrame(c, v, maxForwardFrame)
	}
	return replica.ReadFrame(pollingReader{c, check}, v, maxForwardFrame)
}

// pollInterval is how often a waiting follower looks at its statement's
// context and at who leads.
const pollInterval = 200 * time.Millisecond

// pollingReader reads from c, waking every pollInterval to ask check
// whether to go on waiting.
type pollingReader struct {
	c     net.Conn
	check func() error
}

func (r pollingReader) Read(p []byte) (int, error) {
	for {
		_ = r.c.SetReadDeadline(time.Now().Add(pollInterval))
		n, err := r.c.Read(p)
		switch {
		case n > 0:
			return n, nil // a deadline that cut the read short is asked about next time
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if cerr := r.check(); cerr != nil {
				return 0, cerr
			}
		default:
			return 0, err
		}
	}
}
