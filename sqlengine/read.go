package sqlengine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Rows streams a read's result from a read connection. Close it: it holds
// the connection (and keeps Restore waiting) until then.
type Rows struct {
	ctx     context.Context // the statement's: its end interrupts the rows (the guard)
	rows    *sql.Rows
	names   []string
	vals    []any
	ptrs    []any
	release func()
}

// Columns returns the result column names.
func (r *Rows) Columns() []string { return r.names }

// Next advances to the next row; it returns false at the end or on error.
func (r *Rows) Next() bool { return r.rows.Next() }

// Values returns the current row's storage values; valid until Next.
func (r *Rows) Values() ([]any, error) {
	if err := r.rows.Scan(r.ptrs...); err != nil {
		return nil, MapError(err)
	}
	return r.vals, nil
}

// Err returns the error that ended iteration, mapped to a SQLSTATE; the
// context's error when the statement's context ended it.
func (r *Rows) Err() error {
	err := r.rows.Err()
	if err != nil && r.ctx != nil && r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	return MapError(err)
}

// Close releases the rows and their connection. Safe to call twice.
func (r *Rows) Close() error {
	if r.release == nil {
		return nil
	}
	err := r.rows.Close()
	r.release()
	r.release = nil
	return err
}

func newRows(ctx context.Context, rs *sql.Rows, release func()) (*Rows, error) {
	names, err := rs.Columns()
	if err != nil {
		rs.Close()
		release()
		return nil, MapError(err)
	}
	r := &Rows{ctx: ctx, rows: rs, names: names, vals: make([]any, len(names)), ptrs: make([]any, len(names)), release: release}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}

// Query runs a read-only statement on a pooled read connection, on this
// node's latest applied state; its times are ctx's Clock (WithClock).
func (e *Engine) Query(ctx context.Context, q string, args []any) (*Rows, error) {
	if err := e.rlockSwap(ctx); err != nil {
		return nil, err
	}
	c, err := e.read.Conn(ctx)
	if err != nil {
		e.swap.RUnlock()
		return nil, MapError(err)
	}
	b, err := guardOf(c)
	if err == nil {
		err = setReadClock(ctx, c) // readclock.go
	}
	if err != nil {
		c.Close()
		e.swap.RUnlock()
		return nil, err
	}
	stop := b.watch(ctx)
	release := func() {
		stop()
		closeConn(c)
		e.swap.RUnlock()
	}
	// The guard cancels the statement when ctx ends; database/sql and
	// go-sqlite3 get a context that never does, which spares each query
	// their two watcher goroutines (and go-sqlite3's interrupt, which the
	// guard makes redundant).
	rs, err := c.QueryContext(context.WithoutCancel(ctx), q, args...)
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, MapError(err)
	}
	return newRows(ctx, rs, release)
}

// guardOf returns the statement guard of a read connection (budget.go).
func guardOf(c *sql.Conn) (b *workBudget, err error) {
	rerr := c.Raw(func(dc any) error {
		b, err = budgetOf(dc.(*sqlite3.SQLiteConn))
		return nil
	})
	return b, errors.Join(rerr, err)
}

// Describe prepares q on a read connection without running it and returns
// its result column names and declared types. It also checks the statement
// against the current schema (undefined tables and columns fail here, at
// Parse time, as in PostgreSQL).
func (e *Engine) Describe(ctx context.Context, q string) (StmtInfo, error) {
	if err := e.rlockSwap(ctx); err != nil {
		return StmtInfo{}, err
	}
	defer e.swap.RUnlock()
	c, err := e.read.Conn(ctx)
	if err != nil {
		return StmtInfo{}, fmt.Errorf("describe: %w", err)
	}
	defer c.Close()
	var info StmtInfo
	err = c.Raw(func(dc any) error {
		var perr error
		if info, perr = prepareInfo(dc.(*sqlite3.SQLiteConn), q); perr != nil {
			return mapConnError(dc.(*sqlite3.SQLiteConn), perr)
		}
		return nil
	})
	return info, MapError(err)
}

// ReadTx is a read snapshot held across statements: what REPEATABLE READ and
// SERIALIZABLE transactions read before (and without) writing. A snapshot
// can be shared (Share: pg_export_snapshot and SET TRANSACTION SNAPSHOT,
// docs/design.md §6): every handle reads the same SQLite read transaction on
// the same connection, one statement at a time, and the snapshot ends when
// its last handle closes. A handle is used by one session at a time.
type ReadTx struct {
	s      *readSnap
	held   int // this handle's open statements, which hold s.turn
	closed bool
}

// readSnap is the snapshot the handles of a ReadTx share.
type readSnap struct {
	e    *Engine
	conn *sql.Conn
	// turn is held by the handle whose statements run on conn now: one
	// connection runs one statement at a time (its guard and SQLite's
	// progress handler are per connection). A handle's own statements nest
	// (a portal left suspended, then another query), as on an unshared one.
	turn chan struct{}

	mu        sync.Mutex
	refs      int // open handles
	dataIndex uint64
	started   bool
}

// BeginRead reserves a read connection for a snapshot transaction. The
// snapshot itself starts with the first Query (or Start), as in PostgreSQL.
func (e *Engine) BeginRead(ctx context.Context) (*ReadTx, error) {
	if err := e.rlockSwap(ctx); err != nil {
		return nil, err
	}
	c, err := e.read.Conn(ctx)
	if err != nil {
		e.swap.RUnlock()
		return nil, fmt.Errorf("begin read: %w", err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		c.Close()
		e.swap.RUnlock()
		return nil, MapError(err)
	}
	return &ReadTx{s: &readSnap{e: e, conn: c, turn: make(chan struct{}, 1), refs: 1}}, nil
}

// DataIndex is the data index of the snapshot, or 0 before the first read.
// It may be older than the snapshot (never newer), so a comparison with it
// can fail a transaction needlessly but never let a conflict through. After
// Start it is exact.
func (t *ReadTx) DataIndex() uint64 {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.s.dataIndex
}

// Start takes the snapshot now, if no read has yet, and makes DataIndex the
// snapshot's own: the data index stored in the state it reads.
func (t *ReadTx) Start(ctx context.Context) error {
	if err := t.acquire(ctx); err != nil {
		return err
	}
	defer t.release()
	s := t.s
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		return nil
	}
	var idx int64
	err := withInternalConn(s.conn, func() error {
		return s.conn.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM _pgraft_meta WHERE key = 'data_index'), 0)`).Scan(&idx)
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return MapError(err)
	}
	s.mu.Lock()
	s.dataIndex, s.started = uint64(idx), true
	s.mu.Unlock()
	return nil
}

// Share returns another handle on the same snapshot, which stays open until
// every handle is closed. t must be open.
func (t *ReadTx) Share() *ReadTx {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.s.refs++
	return &ReadTx{s: t.s}
}

// acquire takes the snapshot's turn for a statement of this handle, waiting
// while another handle's statement runs, until ctx ends.
func (t *ReadTx) acquire(ctx context.Context) error {
	if t.held > 0 {
		t.held++
		return nil
	}
	select {
	case t.s.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	t.held = 1
	return nil
}

// release ends a statement acquire began.
func (t *ReadTx) release() {
	if t.held--; t.held == 0 {
		<-t.s.turn
	}
}

// Query runs a read in the snapshot. Close the rows before the next Query.
func (t *ReadTx) Query(ctx context.Context, q string, args []any) (*Rows, error) {
	if err := t.acquire(ctx); err != nil {
		return nil, err
	}
	s := t.s
	s.mu.Lock()
	if !s.started {
		s.dataIndex = s.e.dataIndex.Load()
		s.started = true
	}
	s.mu.Unlock()
	b, err := guardOf(s.conn)
	if err == nil {
		err = setReadClock(ctx, s.conn) // readclock.go
	}
	if err != nil {
		t.release()
		return nil, err
	}
	stop := b.watch(ctx)
	rs, err := s.conn.QueryContext(context.WithoutCancel(ctx), q, args...) // the guard cancels (see Engine.Query)
	if err != nil {
		stop()
		t.release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, MapError(err)
	}
	return newRows(ctx, rs, func() {
		stop()
		t.release()
	})
}

// Close closes this handle; the last one ends the snapshot and returns the
// connection. Safe to call twice.
func (t *ReadTx) Close() {
	if t.closed {
		return
	}
	t.closed = true
	s := t.s
	s.mu.Lock()
	s.refs--
	last := s.refs == 0
	s.mu.Unlock()
	if !last {
		return
	}
	s.conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // closeConn checks
	closeConn(s.conn)
	s.e.swap.RUnlock()
}

// Checksum returns a digest of every user table, the schema and
// sqlite_sequence (checksum.go), and the applied index it describes, read in
// one transaction: nodes at the same index must have the same checksum (I3).
func (e *Engine) Checksum(ctx context.Context) (sum string, index uint64, err error) {
	if err := e.rlockSwap(ctx); err != nil {
		return "", 0, err
	}
	defer e.swap.RUnlock()
	err = e.withInternalRead(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
			return MapError(err)
		}
		defer c.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // read-only
		var idx int64
		if err := c.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM _pgraft_meta WHERE key = 'applied_index'), 0)`).Scan(&idx); err != nil {
			return MapError(err)
		}
		index = uint64(idx)
		sum, err = checksumDB(ctx, c)
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("checksum: %w", err)
	}
	return sum, index, nil
}

// rlockSwap takes e.swap shared, giving up when ctx ends: a Restore waiting
// for the reads running now (an endless one, say) blocks every new RLock,
// and a read must still end at its statement_timeout, and /healthz within
// its bound, rather than hang. sync.RWMutex has no context, hence the
// polling, which only happens while a Restore waits.
func (e *Engine) rlockSwap(ctx context.Context) error {
	for wait := time.Millisecond; !e.swap.TryRLock(); wait = min(2*wait, 50*time.Millisecond) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
