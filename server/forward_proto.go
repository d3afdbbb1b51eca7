package server

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// forward_proto.go is the wire format of write forwarding (DESIGN.md §6):
// a follower session sends requests over a connection on the leader's Raft
// port (first byte forwardRPCByte) and reads one response per request, in
// order. A frame is a 4-byte big-endian length and that many bytes of one
// gob value; a frame longer than maxForwardFrame closes the connection
// that sent it.

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

// registerGobTypes tells gob, once, the concrete types that travel in
// []any besides storage values (nil, int64, float64, string, []byte, which
// gob knows): the time.Time a driver may return. Called before the first
// frame is encoded or decoded, not at package start-up.
var registerGobTypes = sync.OnceFunc(func() { gob.Register(time.Time{}) })

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

	// fwdExec: one statement's PostgreSQL text, the parameter types the
	// follower resolved, and its arguments already in storage form.
	SQL       string
	ParamOIDs []uint32
	Args      []any

	// fwdBegin: the block's state on the follower.
	Isolation     string
	Savepoints    []string
	SnapshotIndex uint64 // data index of the follower's held snapshot; 0 if none

	// fwdCancel: why the follower's statement ended (57014: statement
	// timeout or user request).
	Cause *pgerror.Error
}

// fwdResponse answers one fwdRequest.
type fwdResponse struct {
	Err          *pgerror.Error
	Tag          string
	RowsAffected int64
	Rows         [][]any         // storage values
	CommitIndex  uint64          // index of the entry this request committed; 0 if none
	Cols         []pgwire.Column // fwdDescribe: the statement's row description
	ParamOIDs    []uint32        // fwdDescribe: the statement's parameter types
}

// writeForwardFrame writes v as one frame.
func writeForwardFrame(w io.Writer, v any) error {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 0, 0})
	registerGobTypes()
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode forward frame: %w", err)
	}
	b := buf.Bytes()
	if len(b)-4 > maxForwardFrame {
		return errFrameTooLarge
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	_, err := w.Write(b)
	return err
}

var errFrameTooLarge = pgerror.New(pgerror.ProgramLimitExceeded,
	"forwarded statement or result exceeds %d bytes", maxForwardFrame)

// readForwardFrame reads one frame into v. check, when not nil, is asked
// every pollInterval while the frame has not arrived; its error ends the
// wait (the caller closes the connection: a half-read frame is lost).
func readForwardFrame(c net.Conn, v any, check func() error) error {
	var hdr [4]byte
	if err := readFullChecked(c, hdr[:], check); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxForwardFrame {
		return fmt.Errorf("forward frame of %d bytes exceeds the limit of %d", size, maxForwardFrame)
	}
	body := make([]byte, size)
	if err := readFullChecked(c, body, check); err != nil {
		return fmt.Errorf("read forward frame: %w", err)
	}
	registerGobTypes()
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return fmt.Errorf("decode forward frame: %w", err)
	}
	return nil
}

// pollInterval is how often a waiting follower looks at its statement's
// context and at who leads.
const pollInterval = 200 * time.Millisecond

func readFullChecked(c net.Conn, buf []byte, check func() error) error {
	if check == nil {
		_ = c.SetReadDeadline(time.Time{})
		_, err := io.ReadFull(c, buf)
		return err
	}
	for off := 0; off < len(buf); {
		_ = c.SetReadDeadline(time.Now().Add(pollInterval))
		n, err := c.Read(buf[off:])
		off += n
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if cerr := check(); cerr != nil {
				return cerr
			}
		default:
			return err
		}
	}
	return nil
}
