package sqlengine

import "context"

// connLock serializes use of the write connection (Engine.wmu). It is a
// channel rather than a sync.Mutex so that a session waiting for the
// connection, behind a long pre-run or apply batch, still obeys its
// statement_timeout, CancelRequest and disconnect: a client statement never
// waits on the write connection past its context.
type connLock chan struct{}

func newConnLock() connLock { return make(connLock, 1) }

// Lock takes the connection, however long that takes: for apply, snapshot
// and restore, which must not give up.
func (l connLock) Lock() { l <- struct{}{} }

// LockContext takes the connection unless ctx ends first; it then returns
// ctx's error and does not hold the connection.
func (l connLock) LockContext(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unlock releases the connection.
func (l connLock) Unlock() { <-l }
