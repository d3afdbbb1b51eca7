package sqlengine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Config configures an Engine.
type Config struct {
	Path string // the SQLite database file, e.g. <data-dir>/db.sqlite
	// ReadConns is the most read connections open at once; 0 means 8. They
	// open as reads need them and close after readIdleTime unused, so a
	// pool sized for every session a server admits costs little at rest.
	ReadConns int
	Logger    *slog.Logger // nil: discard
	// OnFault, if set, is called when apply meets a new fault (fault.go),
	// on the apply goroutine: it must not block.
	OnFault func(Fault)
	// InjectFault, if set, is asked before each attempt at a batch (its
	// first entry's index); an error fails the attempt as a full disk
	// would. For fault drills and tests.
	InjectFault func(index uint64) error
	// OnApplied, if set, is called when the applied index moves outside
	// ApplyBatch: a pipelined epoch committed (pipeline.go).
	OnApplied func(index uint64)
	// NodeStats provides the rows of pg_stat_activity, pg_stat_replication
	// and pg_stat_wal_receiver on read connections (nodestats.go); nil:
	// none.
	NodeStats NodeStats
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("sqlengine: Path is required")
	}
	if c.ReadConns < 0 {
		return errors.New("sqlengine: ReadConns must not be negative")
	}
	return nil
}

// Engine owns one SQLite database: exactly one write connection, used by
// Apply and lent to a session that holds the write gate (DESIGN.md §4), and
// a pool of query_only read connections.
type Engine struct {
	cfg Config
	log *slog.Logger

	// swap is held shared by everyone who uses a connection and
	// exclusively by Restore, which replaces the database file.
	swap  sync.RWMutex
	write *sql.DB
	wconn *sql.Conn
	wraw  *sqlite3.SQLiteConn
	wauth authState // wraw's authorizer: internal access for pgraft's own statements (authorizer.go)
	// walPages is the write connection's checkpoint threshold, set by
	// tuneWAL at walTunedAt (under wmu; 0: not yet on this connection).
	walPages   int64
	walTunedAt uint64
	read       *sql.DB
	// readStats is read for ReadStats without swap, which Restore holds
	// while it waits for every read to end.
	readStats atomic.Pointer[sql.DB]
	// snap is where Snapshot reads: not the read pool, because Snapshot
	// runs on the apply goroutine, which must never wait behind clients'
	// long reads and open cursors.
	snap *sql.DB

	// wmu serializes use of the write connection (Apply, a borrower's
	// statements). borrower is the session transaction that holds it
	// between statements, if any.
	wmu      connLock
	det      detState
	seq      seqState    // the sequences of the statement on the write connection (sequences.go)
	seqStmts rawStmts    // their queries, prepared once on the write connection
	budget   *workBudget // the write connection's work budget (budget.go)
	borrower *WriteTx
	// spec is the open epoch of pipelined writes on the leader, redo the
	// committed entries of a broken one still to apply, chain the last
	// data-changing entry's place in its epoch (pipeline.go).
	spec   *epoch
	redo   []redoCmd
	chain  chain
	pstats pipeStats
	helper *sql.DB // in-memory, for SQLite's own date functions (determinism.go)

	applied   atomic.Uint64 // highest applied index, published after COMMIT (I2)
	dataIndex atomic.Uint64 // index of the last applied entry that could change data
	lastTime  atomic.Int64  // highest entry time applied (µs): "now" never moves backwards

	// fault stops apply on a node-local failure (fault.go); stop ends its
	// retries when the node shuts down.
	fault    faultState
	stop     chan struct{}
	stopOnce sync.Once

	cat *catalogState
	// wcat is the write connection's catalog state: it has a snapshot only
	// while a transaction's catalog query runs (WriteTx.CatalogQuery).
	wcat *catalogState
	// schemaSem serializes schema reloads; a channel rather than a mutex so
	// that a session waiting behind a reload still obeys its context.
	schemaSem chan struct{}
	// roles is the role store as of the last applied entry (roles.go).
	roles atomic.Pointer[map[string]Role]
	// privs is _pgraft_acl as of the last applied entry (acl.go);
	// privsDirty (under wmu) says a statement changed the table since.
	privs      atomic.Pointer[Privileges]
	privsDirty bool
	// stagedTerm is the term up to which apply dropped orphaned staged
	// parts (stage.go); 0 after a start, so the first batch checks again.
	stagedTerm  uint64
	schemaVer   int64
	schemaDirty atomic.Bool
}

// Open opens (creating if needed) the database at cfg.Path.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReadConns == 0 {
		cfg.ReadConns = 8
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cat := &catalogState{}
	e := &Engine{cfg: cfg, log: log, cat: cat, wcat: &catalogState{forWrites: true, shared: cat}, wmu: newConnLock(), stop: make(chan struct{}), schemaSem: make(chan struct{}, 1)}
	cat.roles, e.wcat.roles = &e.roles, &e.roles
	cat.privs, e.wcat.privs = &e.privs, &e.privs
	if err := e.openConns(); err != nil {
		return nil, err
	}
	e.schemaDirty.Store(true)
	return e, nil
}

// stmtCacheSize is how many prepared statements each connection keeps
// (go-sqlite3's _stmt_cache_size): a repeated statement (the same
// translation, or a shape's, translate.Shape) skips SQLite's prepare.
// Cached statements are re-prepared by SQLite after a schema change.
const stmtCacheSize = 64

func (e *Engine) dsn(extra string) string {
	return "file:" + (&url.URL{Path: e.cfg.Path}).EscapedPath() +
		"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=1&cache=private" +
		"&_stmt_cache_size=" + strconv.Itoa(stmtCacheSize) + extra
}

// openConns opens the write connection, the read pool and the helper
// connection, and reads the applied index. Called by Open and Restore.
func (e *Engine) openConns() error {
	e.walPages = 0 // a new write connection: tuneWAL sets it up again
	helper := sql.OpenDB(newConnector("file::memory:?mode=memory", setLimits))
	helper.SetMaxOpenConns(1)
	hc, err := helper.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("open helper connection: %w", err)
	}
	if err := hc.Raw(func(dc any) error { e.det.helper = dc.(*sqlite3.SQLiteConn); return nil }); err != nil {
		return fmt.Errorf("open helper connection: %w", err)
	}
	e.helper = helper

	e.write = sql.OpenDB(newConnector(e.dsn(""), e.prepareWriteConn))
	e.write.SetMaxOpenConns(1)
	e.write.SetConnMaxLifetime(0)
	if e.wconn, err = e.write.Conn(context.Background()); err != nil {
		return fmt.Errorf("open write connection %s: %w", e.cfg.Path, err)
	}
	if err := e.wconn.Raw(func(dc any) error { e.wraw = dc.(*sqlite3.SQLiteConn); return nil }); err != nil {
		return err
	}
	if e.wauth, err = authOf(e.wraw); err != nil {
		return err
	}
	if err := e.withInternal(e.initMeta); err != nil {
		return err
	}
	e.read = sql.OpenDB(newConnector(e.dsn(""), e.prepareReadConn))
	e.read.SetMaxOpenConns(e.cfg.ReadConns)
	e.read.SetMaxIdleConns(e.cfg.ReadConns)
	e.read.SetConnMaxIdleTime(readIdleTime)
	e.readStats.Store(e.read)
	// Set up as any read connection; opened per snapshot (about 10 ms, every
	// few thousand entries) and closed after.
	e.snap = sql.OpenDB(newConnector(e.dsn(""), e.prepareReadConn))
	e.snap.SetMaxOpenConns(2) // Raft persists one snapshot at a time
	e.snap.SetMaxIdleConns(0)
	return nil
}

// readIdleTime is how long an unused read connection stays open. Opening
// one costs about 10 ms (functions, catalog views) and keeping one about
// 0.6 MB plus its page cache: a burst of long reads opens many, and they
// go once the burst is over.
const readIdleTime = 5 * time.Minute

// ReadStats reports the read pool: connections open, and those in use (by
// a running read, a streaming result, a held snapshot or a describe).
func (e *Engine) ReadStats() (open, inUse int) {
	db := e.readStats.Load() // not e.read: no wait behind a Restore
	if db == nil {
		return 0, 0
	}
	st := db.Stats()
	return st.OpenConnections, st.InUse
}

func (e *Engine) prepareWriteConn(c *sqlite3.SQLiteConn) error {
	if err := setLimits(c); err != nil {
		return err
	}
	b, err := installBudget(c)
	if err != nil {
		return err
	}
	if err := registerFunctions(c, e.wcat, b); err != nil {
		return err
	}
	if err := registerWriteFunctions(c, &e.det); err != nil {
		return err
	}
	if err := registerNodeStatsWrite(c); err != nil {
		return err
	}
	if err := registerSequenceFuncs(c, e.sequenceFuncs(), b); err != nil {
		return err
	}
	e.budget = b
	catalog := newTrustedPrefix()
	if err := createCatalogViews(c, catalog); err != nil {
		return fmt.Errorf("create catalog views: %w", err)
	}
	// The WAL only grows back to its high-water mark: after a large
	// transaction (a big COPY) it is cut back once it restarts, so the
	// node's disk stays near its database's size (walsize.go tunes both
	// from the database's size).
	if _, err := c.Exec("PRAGMA case_sensitive_like=ON; PRAGMA journal_size_limit="+strconv.Itoa(walMaxPages*walPageBytes), nil); err != nil {
		return err
	}
	return installAuthorizer(c, true, catalog)
}

func (e *Engine) prepareReadConn(c *sqlite3.SQLiteConn) error {
	if err := setLimits(c); err != nil {
		return err
	}
	b, err := installBudget(c) // for cancellation: reads have no budget
	if err != nil {
		return err
	}
	if err := registerFunctions(c, e.cat, b); err != nil {
		return err
	}
	if err := registerReadFunctions(c); err != nil {
		return err
	}
	if err := registerNodeStatsRead(c, e.cfg.NodeStats); err != nil {
		return err
	}
	if err := registerSequenceFuncs(c, readSequenceFuncs(), b); err != nil {
		return err
	}
	trusted := newTrustedPrefix()
	if err := createCatalogViews(c, trusted); err != nil {
		return fmt.Errorf("create catalog views: %w", err)
	}
	if _, err := c.Exec("PRAGMA case_sensitive_like=ON; PRAGMA query_only=ON", nil); err != nil {
		return err
	}
	return installAuthorizer(c, false, trusted)
}

// initMeta creates _pgraft_meta and loads the applied index and clock. It
// runs with internal access.
func (e *Engine) initMeta() error {
	ctx := context.Background()
	if _, err := e.wconn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS _pgraft_meta (
		key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID`); err != nil {
		return fmt.Errorf("create _pgraft_meta: %w", err)
	}
	if _, err := e.wconn.ExecContext(ctx, rolesTableSQL); err != nil {
		return fmt.Errorf("create _pgraft_roles: %w", err)
	}
	if _, err := e.wconn.ExecContext(ctx, sequencesTableSQL); err != nil {
		return fmt.Errorf("create _pgraft_sequences: %w", err)
	}
	if _, err := e.wconn.ExecContext(ctx, stagedTableSQL); err != nil {
		return fmt.Errorf("create _pgraft_staged: %w", err)
	}
	if err := e.loadRoles(ctx); err != nil {
		return err
	}
	if _, err := e.wconn.ExecContext(ctx, aclTableSQL); err != nil {
		return fmt.Errorf("create _pgraft_acl: %w", err)
	}
	if err := e.claimRelations(ctx); err != nil { // a database from before owners were recorded
		return err
	}
	if err := e.loadPrivileges(ctx); err != nil {
		return err
	}
	rows, err := e.wconn.QueryContext(ctx, `SELECT key, value FROM _pgraft_meta`)
	if err != nil {
		return fmt.Errorf("read _pgraft_meta: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("read _pgraft_meta: %w", err)
		}
		switch k {
		case "applied_index":
			e.applied.Store(uint64(v))
		case "data_index":
			e.dataIndex.Store(uint64(v))
		case "last_time":
			e.lastTime.Store(v)
		case "chain_epoch":
			e.chain.epoch = uint64(v)
		case "chain_seq":
			e.chain.seq = uint64(v)
		}
	}
	return rows.Err()
}

// SQLiteVersion is the SQLite library version this build links: voters of a
// cluster must share it, since a different SQLite may plan and order rows
// differently (DESIGN.md §3).
func SQLiteVersion() string {
	v, _, _ := sqlite3.Version()
	return v
}

// AppliedIndex returns the highest log index whose effects are committed.
func (e *Engine) AppliedIndex() uint64 { return e.applied.Load() }

// DataIndex returns the index of the last applied entry that could have
// changed data (REPEATABLE READ and SERIALIZABLE compare against it).
func (e *Engine) DataIndex() uint64 { return e.dataIndex.Load() }

// LastTime returns the highest entry time applied, in µs since the epoch.
func (e *Engine) LastTime() int64 { return e.lastTime.Load() }

// Close closes every connection.
func (e *Engine) Close() error {
	e.swap.Lock()
	defer e.swap.Unlock()
	return e.closeConns()
}

func (e *Engine) closeConns() error {
	var errs []error
	if e.wconn != nil {
		e.seqStmts.finalize() // before its connection closes
		errs = append(errs, e.wconn.Close())
	}
	for _, db := range []*sql.DB{e.read, e.snap, e.write, e.helper} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	e.wconn, e.wraw, e.read, e.snap, e.write, e.helper = nil, nil, nil, nil, nil, nil
	e.budget = nil // freed with its connection
	return errors.Join(errs...)
}

// Schema returns the current schema, reloading it if DDL ran since.
func (e *Engine) Schema(ctx context.Context) (*SchemaSnapshot, error) {
	select {
	case e.schemaSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.schemaSem }()
	if s := e.cat.Get(); s != nil && !e.schemaDirty.Load() {
		return s, nil
	}
	if err := e.rlockSwap(ctx); err != nil {
		return nil, err
	}
	defer e.swap.RUnlock()
	e.schemaDirty.Store(false)
	var s *SchemaSnapshot
	err := e.withInternalRead(ctx, func(c *sql.Conn) (err error) {
		s, err = loadSchema(ctx, c)
		return err
	})
	if err != nil {
		e.schemaDirty.Store(true)
		return nil, fmt.Errorf("load schema: %w", err)
	}
	for _, b := range s.broken {
		e.log.Warn("schema object cannot be loaded; the rest of the schema is served", "err", b)
	}
	e.cat.Set(s)
	return s, nil
}
