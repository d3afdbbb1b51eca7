package chaos

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// opTimeout bounds one statement. Longer than the server's own bounds
	// (lock_timeout 10 s), so the server normally answers first and a
	// client-side timeout, whose outcome is unknown, stays rare.
	opTimeout = 15 * time.Second
	// connectTimeout bounds one connection attempt.
	connectTimeout = 2 * time.Second
	// reconnectPause separates connection attempts to a node that is down.
	reconnectPause = 100 * time.Millisecond
	// errorPause follows a failed statement, as a real client backs off
	// while there is no leader instead of spinning on 40001.
	errorPause = 50 * time.Millisecond
)

// outcome is what a client learned about one operation.
type outcome int

const (
	// done: the statement succeeded and its answer is known.
	done outcome = iota
	// failed: the statement certainly had no effect.
	failed
	// unknown: the statement may or may not have taken effect.
	unknown
)

// classify says what an error means for a write. Only answers that promise
// "nothing was applied" count as failed; everything else (40003, lost
// connections, timeouts, any unexpected SQLSTATE) is unknown, as Jepsen
// treats an indeterminate result.
func classify(err error) outcome {
	if err == nil {
		return done
	}
	if errors.Is(err, pgconn.ErrConnClosed) {
		// pgx answers "conn closed", which it marks safe to retry, also
		// for a statement it did send: when the connection breaks while
		// it waits for the answer, MultiResultReader.NextResult drops the
		// read error, pgx closes the connection, and the next read reports
		// the closed connection instead (pgx v5.12.0, pgconn.go). A COMMIT
		// answered so may well have committed: the outcome is unknown.
		return unknown
	}
	if pgconn.SafeToRetry(err) {
		return failed // never sent
	}
	switch sqlstate(err) {
	case "40001", // not appended (DESIGN.md §4 step 5)
		"55P03", // lock_timeout waiting for the gate
		"25006", // read-only node
		"53100", // disk full: refused before anything was logged
		"57P03": // cannot connect now
		return failed
	}
	return unknown
}

// sqlstate returns err's SQLSTATE, or a short class for errors without one.
func sqlstate(err error) string {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "conn"
}

// errorCounts tallies errors by SQLSTATE (or class) across clients.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int
	// internal holds the first few XX000 messages: a server bug to read.
	internal []string
}

func (e *errorCounts) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]int)
	}
	code := sqlstate(err)
	e.m[code]++
	if code == "XX000" && len(e.internal) < 3 {
		e.internal = append(e.internal, "XX000: "+err.Error())
	}
}

// internalErrors returns the first XX000 messages seen.
func (e *errorCounts) internalErrors() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.internal...)
}

func (e *errorCounts) snapshot() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// client is one connection to one node, reopened after it breaks. It
// belongs to one goroutine.
type client struct {
	dsn         string
	consistency string // pgraft.read_consistency; "" is linearizable
	conn        *pgx.Conn
}

// get returns an open connection at the client's read consistency, or nil
// when the node cannot be reached right now (after a short pause) or ctx
// ended.
func (c *client) get(ctx context.Context) *pgx.Conn {
	if c.conn != nil && !c.conn.IsClosed() {
		return c.conn
	}
	c.close()
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(cctx, c.dsn)
	if err == nil {
		level := c.consistency
		if level == "" {
			level = "linearizable"
		}
		_, err = conn.Exec(cctx, "SET pgraft.read_consistency = "+level)
		if err != nil {
			conn.Close(context.Background())
		}
	}
	if err != nil {
		select {
		case <-ctx.Done():
		case <-time.After(reconnectPause):
		}
		return nil
	}
	c.conn = conn
	return conn
}

// failed handles a statement's error: the connection is dropped when the
// error may have left it in an unknown state (the next operation starts on
// a fresh session), then the client pauses.
func (c *client) failed(ctx context.Context, err error) {
	if classify(err) != failed || c.conn == nil || c.conn.IsClosed() {
		c.close()
	}
	select {
	case <-ctx.Done():
	case <-time.After(errorPause):
	}
}

func (c *client) close() {
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c.conn.Close(ctx)
		c.conn = nil
	}
}
