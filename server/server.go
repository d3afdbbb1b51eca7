package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/replica"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// Log keys, spelled the same everywhere (STYLE.md).
const (
	logKeyComponent = "component"
	logKeyNode      = "node"
	logKeyConn      = "conn"
	logKeyRemote    = "remote"
	logKeyErr       = "err"
	logKeyAddr      = "addr"
)

// Config is everything a node needs; cmd/pgraft fills it from flags.
type Config struct {
	NodeID      string        // "" = generated once and kept in DataDir/node-id
	DataDir     string        // holds db.sqlite, raft/, snapshots/
	PGAddr      string        // PostgreSQL protocol listen address
	RaftAddr    string        // Raft and node-to-node address
	HTTPAddr    string        // /healthz, /readyz, /status
	Join        []string      // RaftAddrs of existing members; empty = bootstrap a new cluster
	Nonvoter    bool          // join as a non-voting read replica (never counts towards the quorum)
	JoinTimeout time.Duration // how long Open keeps trying to join; 0 = 2 minutes

	// FollowerWrites says what a write on a follower does:
	// FollowerWritesForward ("" too) sends it to the leader,
	// FollowerWritesReject answers 25006 (DESIGN.md §7).
	FollowerWrites string

	// Listeners, when set, are used instead of listening on the addresses
	// (tests pass 127.0.0.1:0 listeners).
	PGListener, RaftListener, HTTPListener net.Listener

	HeartbeatTimeout  time.Duration // 0 = replica's default
	ElectionTimeout   time.Duration // 0 = replica's default
	SnapshotThreshold uint64        // log entries between snapshots; 0 = replica's default
	TrailingLogs      uint64        // log entries kept after a snapshot; 0 = replica's default
	// RaftLogStore is the log store of a new data dir: "wal" ("" too) or
	// "bolt" (replica.LogStoreWAL, replica.LogStoreBolt).
	RaftLogStore string
	// RaftWALSegmentSize is the size of one raft-wal segment; 0 = 1 MiB.
	// The log is dropped by whole segments after a snapshot.
	RaftWALSegmentSize int

	// ForwardIdleTimeout closes a follower session's link to the leader
	// after this long without a forwarded statement, outside a transaction
	// and when it holds no advisory locks; 0 = 1 minute.
	ForwardIdleTimeout time.Duration

	// MaxConnections bounds the client sessions, as PostgreSQL's
	// max_connections (which SHOW reports): a connection beyond it is
	// refused at startup with FATAL 53300. The read pool is sized to serve
	// every admitted session at once (readReserve more). 0 = 100. The
	// leader-side sessions that serve followers' forwarded statements
	// (forward_leader.go) are not counted: each stands for a session that
	// a follower admitted under its own limit, and refusing it would fail
	// a follower's write for the leader's local load.
	MaxConnections int

	// MinFreeDisk is the free space (bytes) the data dir's file system
	// must keep for this node to admit a write; below it writes answer
	// 53100 (disk_full) before anything is logged. 0 = 64 MiB.
	MinFreeDisk uint64

	// ApplyFaultInjector, if set, is asked before each attempt to apply a
	// batch of entries; an error fails the attempt as a full disk would
	// (sqlengine.Config.InjectFault). For fault drills and tests.
	ApplyFaultInjector func(index uint64) error

	// Now is the wall clock entries take their time from (now(),
	// CURRENT_TIMESTAMP); nil = time.Now. Fault tests move it to simulate a
	// node's clock jumping.
	Now func() time.Time

	// TLSCertFile and TLSKeyFile are the PostgreSQL port's certificate and
	// key (PEM): with them SSLRequest is answered 'S' (sslmode=require,
	// verify-full). TLSRequired refuses connections that did not ask for
	// TLS with FATAL 28000, as a pg_hba.conf hostssl-only setup does.
	TLSCertFile, TLSKeyFile string
	TLSRequired             bool

	// Auth is how clients log in: AuthTrust ("" too; only on a loopback
	// PGAddr unless Insecure) or AuthSCRAM (roles.go). Superuser and
	// SuperuserPassword create the bootstrap superuser on a cluster that
	// does not have it yet (through the log, once this node leads).
	Auth     string
	Insecure bool
	// AdminTokenFile holds the bearer token the HTTP administration
	// endpoints require (admin.go); without it they answer only on a
	// loopback HTTP address. Pprof serves /debug/pprof (as administration).
	AdminTokenFile string
	Pprof          bool
	// LogMinDuration logs every statement that runs at least this long,
	// with its text (PostgreSQL's log_min_duration_statement; pgraft
	// serve's --log-min-duration 0, which logs every statement, is 1ns
	// here); 0 or negative logs none.
	LogMinDuration time.Duration
	// LogConnections logs each client session's start and end at info
	// (PostgreSQL's log_connections and log_disconnections).
	LogConnections bool
	// NodeTLSCert, NodeTLSKey and NodeTLSCA make all node-to-node traffic
	// mutual TLS with the cluster CA (replica.NodeTLS): a peer without a
	// certificate from that CA cannot connect, join, vote, append or
	// forward. The certificate is reloaded by ReloadTLS. Without them a
	// node whose Raft address other hosts can reach refuses to start
	// unless InsecureNodeTraffic.
	NodeTLSCert, NodeTLSKey, NodeTLSCA string
	InsecureNodeTraffic                bool
	Superuser                          string
	SuperuserPassword                  string

	Logger *slog.Logger // nil: discard
}

// DefaultConfig returns the defaults of `pgraft serve`.
func DefaultConfig() Config {
	return Config{DataDir: "./data", PGAddr: "127.0.0.1:5433", RaftAddr: "127.0.0.1:7433", HTTPAddr: "127.0.0.1:8433",
		MaxConnections: defaultMaxConnections}
}

const (
	// defaultMaxConnections is PostgreSQL's default max_connections.
	defaultMaxConnections = 100
	// readReserve is how many read connections the pool has beyond
	// MaxConnections, for what reads on no session's behalf or on a
	// forwarded one's: /healthz, schema reloads, describes of forwarded
	// statements (Raft snapshots have a connection of their own). A session
	// holds one read connection while a read runs, and one more per open
	// cursor or suspended portal it reads.
	readReserve = 8
)

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("data dir is required")
	}
	if c.PGAddr == "" && c.PGListener == nil {
		return errors.New("pg address is required")
	}
	if c.RaftAddr == "" && c.RaftListener == nil {
		return errors.New("raft address is required")
	}
	if c.MaxConnections < 0 {
		return errors.New("max connections must not be negative")
	}
	switch c.FollowerWrites {
	case "", FollowerWritesForward, FollowerWritesReject:
	default:
		return fmt.Errorf("follower writes %q: want %q or %q", c.FollowerWrites, FollowerWritesForward, FollowerWritesReject)
	}
	switch c.RaftLogStore {
	case "", replica.LogStoreWAL, replica.LogStoreBolt:
	default:
		return fmt.Errorf("raft log store %q: want %q or %q", c.RaftLogStore, replica.LogStoreWAL, replica.LogStoreBolt)
	}
	return nil
}

// replicator is what sessions need from replication; declared here so that
// tests can run sessions over a fake.
type replicator interface {
	Propose(ctx context.Context, payload []byte) (uint64, any, error)
	// Enqueue hands an entry to raft in order (commit pipelining): the
	// next write may run on top of it once it returns.
	Enqueue(ctx context.Context, payload []byte) (*replica.Proposal, error)
	IsLeader() bool
	// WaitLeaderReady returns once this node leads and has applied every
	// entry committed before its term; replica.ErrNotLeader at once when
	// it does not lead.
	WaitLeaderReady(ctx context.Context) error
	LeaderReady() bool
	WaitApplied(ctx context.Context, index uint64) error
}

// Server is one pgraft node: the PostgreSQL listener, the Raft node, the
// SQLite engine and the HTTP status endpoints.
type Server struct {
	cfg        Config
	metrics    *metrics // Prometheus metrics (metrics.go)
	applyClock lagClock // when this node applied which index (members' lag in time)
	// forwardSessions counts the open leader-side sessions of followers'.
	forwardSessions atomic.Int64
	log             *slog.Logger
	eng             *sqlengine.Engine
	// The Raft node (raft.go), seen by each part of the server through the
	// interface that part declares: all are the same node.
	raft    *replica.Node   // only raft.go uses it
	repl    replicator      // sessions: writes, leader readiness
	reads   consistencyNode // read consistency levels (consistency.go)
	link    leaderLink      // write forwarding (forward.go)
	cluster clusterNode     // status, member removal, failover (http.go, fault.go)
	gate    gate
	// translations: statements and their row descriptions, per schema.
	translations translate.Cache[[]pgwire.Column]
	advisory     advisoryLocks
	snapshots    *snapshotRegistry // exported snapshots (snapshots.go)
	pg           *pgwire.Server
	web          *http.Server
	adminToken   string        // the HTTP administration token, "" without one (admin.go)
	tlsConfig    *tls.Config   // the PostgreSQL port's, nil without TLS (tls.go)
	certs        *certReloader // its certificate, reloaded by ReloadTLS
	nodeTLS      *replica.NodeTLS
	nodeCerts    *certReloader // node TLS's certificate, reloaded by ReloadTLS

	// sessions counts the client sessions, up to cfg.MaxConnections.
	sessions atomic.Int64
	activity activities // each client session's pg_stat_activity row (activity.go)

	faultKick   chan struct{} // onApplyFault → watchFaults (fault.go)
	faultMu     sync.Mutex
	faultCtx    context.Context // ends when apply meets a fault (fault.go)
	faultCancel context.CancelFunc
	progress    applyProgress   // /readyz's view of apply (fault.go)
	disk        diskSpace       // free space of the data dir, cached (diskspace.go)
	bgCtx       context.Context // ends at Shutdown: background work of the Server
	bgCancel    context.CancelFunc
	bgWG        sync.WaitGroup // watchFaults (fault.go), ensureSuperuser (roles.go), sampleHistory (statuspage.go)
	history     statusHistory  // the status page's samples and elections (statuspage.go)

	pgLn, httpLn net.Listener
	closing      atomic.Bool
	started      atomic.Bool // admitted its first client session (admitConnection)
	wg           sync.WaitGroup
	shutdownOnce sync.Once
	shutdownErr  error
}

// Open starts a node: it opens the database and the Raft node (bootstrapping
// a one-node cluster on an empty data dir without Join), and starts serving
// PostgreSQL and HTTP.
func Open(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	id, err := nodeID(cfg.DataDir, cfg.NodeID)
	if err != nil {
		return nil, err
	}
	cfg.NodeID = id
	cfg.Logger = log
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = defaultMaxConnections
	}
	tlsConfig, certs, err := clientTLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Auth, err = cfg.authMethod(); err != nil {
		return nil, err
	}
	adminToken, err := loadAdminToken(cfg.AdminTokenFile)
	if err != nil {
		return nil, err
	}
	nodeTLS, nodeCerts, err := nodeTLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log.With(logKeyNode, id), faultKick: make(chan struct{}, 1),
		tlsConfig: tlsConfig, certs: certs, adminToken: adminToken, nodeTLS: nodeTLS, nodeCerts: nodeCerts}
	s.metrics = newMetrics(s)
	s.snapshots = newSnapshotRegistry(id)
	s.faultCtx, s.faultCancel = context.WithCancel(context.Background())
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	if err := s.open(); err != nil {
		s.closeAll()
		return nil, err
	}
	s.startBackground()
	s.awaitAloneReady()
	s.serve()
	return s, nil
}

// aloneReadyWait bounds how long a node that is its cluster's only voter
// waits to lead before it serves anyway (then answering 57P03 until ready).
const aloneReadyWait = 10 * time.Second

// awaitAloneReady: a node that is its cluster's only voter (a bootstrap, or
// a one-node cluster restarting) elects itself within moments, so it waits
// for that before serving. Clients that connect meanwhile wait in the
// listener's backlog rather than get 57P03: `pgraft serve &` followed at
// once by a script's first write just works. A node with peers serves at
// once and answers 57P03 until ready (admitConnection), since its readiness
// depends on other nodes.
func (s *Server) awaitAloneReady() {
	st := s.cluster.Status()
	voters := 0
	for _, m := range st.Members {
		if m.Voter {
			voters++
		}
	}
	if voters != 1 || len(s.cfg.Join) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.bgCtx, aloneReadyWait)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		s.log.Warn("serving before this one-node cluster is ready", logKeyErr, err)
	}
}

func (s *Server) open() error {
	var err error
	s.eng, err = sqlengine.Open(sqlengine.Config{
		Path:        filepath.Join(s.cfg.DataDir, "db.sqlite"),
		ReadConns:   s.cfg.MaxConnections + readReserve, // a long read never starves another session
		Logger:      s.log.With(logKeyComponent, "sqlengine"),
		OnFault:     s.onApplyFault,
		OnApplied:   s.onEpochApplied,
		InjectFault: s.cfg.ApplyFaultInjector,
		NodeStats:   nodeStats{s}, // pg_stat_activity, pg_stat_replication, pg_stat_wal_receiver (activity.go)
	})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if err := s.openRaft(); err != nil {
		return err
	}
	if s.pgLn = s.cfg.PGListener; s.pgLn == nil {
		if s.pgLn, err = net.Listen("tcp", s.cfg.PGAddr); err != nil {
			return fmt.Errorf("listen for PostgreSQL clients: %w", err)
		}
	}
	if s.httpLn = s.cfg.HTTPListener; s.httpLn == nil && s.cfg.HTTPAddr != "" {
		if s.httpLn, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen for HTTP: %w", err)
		}
	}
	return nil
}

// startBackground starts the node's background work: the fault watcher,
// the status page's sampler and the bootstrap superuser's creation.
// Shutdown stops it (bgCancel).
func (s *Server) startBackground() {
	s.bgWG.Add(2)
	go func() {
		defer s.bgWG.Done()
		s.watchFaults()
	}()
	go func() {
		defer s.bgWG.Done()
		s.sampleHistory(s.bgCtx)
	}()
	if s.cfg.Superuser != "" && s.cfg.SuperuserPassword != "" {
		s.bgWG.Add(1)
		go func() {
			defer s.bgWG.Done()
			if err := s.ensureSuperuser(s.bgCtx); err != nil && s.bgCtx.Err() == nil {
				s.log.Error("bootstrap superuser not created", logKeyErr, err)
			}
		}()
	}
}

// serve starts the PostgreSQL and HTTP servers; Shutdown stops them.
func (s *Server) serve() {
	s.pg = &pgwire.Server{Handler: s, Logger: s.log.With(logKeyComponent, "pgwire"),
		TLSConfig: s.tlsConfig, TLSRequired: s.cfg.TLSRequired, Admit: s.admitConnection}
	if s.cfg.Auth == AuthSCRAM {
		s.pg.Passwords, s.pg.SCRAMMockKey = s.passwords, s.mockKey(newMockKey())
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.pg.Serve(s.pgLn); err != nil && !errors.Is(err, pgwire.ErrServerClosed) {
			s.log.Error("PostgreSQL listener stopped", logKeyErr, err)
		}
	}()
	if s.httpLn != nil {
		s.web = &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.web.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("HTTP listener stopped", logKeyErr, err)
			}
		}()
	}
	s.log.Info("serving", "pg", s.pgLn.Addr().String(), "raft", s.cfg.RaftAddr, "data", s.cfg.DataDir)
}

// PGAddr returns the address PostgreSQL clients connect to.
func (s *Server) PGAddr() string { return s.pgLn.Addr().String() }

// HTTPAddr returns the HTTP address, "" if none.
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

func (s *Server) isLeader() bool { return s.repl != nil && s.repl.IsLeader() }

// waitWritable returns once this node may admit writes: it leads, and has
// applied every entry committed before its term (a new leader may hold a
// table its predecessor created and acknowledged, which a write must not be
// translated and run without). A node that does not lead, or is stopping,
// gets a retryable error at once: no write waits for an election past its
// statement's deadline.
func (s *Server) waitWritable(ctx context.Context) error {
	err := s.repl.WaitLeaderReady(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, replica.ErrNotLeader):
		return contextError(ctx, err) // 57014, or the statement's own cause
	}
	return notLeaderError() // not the leader, or stopping: nothing was written
}

// leaderCatchingUp reports whether this node leads but has not yet applied
// its predecessors' entries.
func (s *Server) leaderCatchingUp() bool {
	return s.isLeader() && !s.repl.LeaderReady()
}

// Shutdown stops accepting clients, ends sessions (waiting for running ones
// until ctx ends), then stops Raft and closes the database.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.closing.Store(true)
		s.bgCancel()
		var errs []error
		if s.pg != nil {
			errs = append(errs, ignoreClosed(s.pg.Shutdown(ctx)))
		}
		if s.web != nil {
			errs = append(errs, ignoreClosed(s.web.Shutdown(ctx)))
		}
		s.wg.Wait()
		errs = append(errs, s.closeAll())
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}

func ignoreClosed(err error) error {
	if errors.Is(err, pgwire.ErrServerClosed) || errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// closeAll stops Raft and closes the engine and listeners that Open made.
func (s *Server) closeAll() error {
	if s.bgCancel != nil {
		s.bgCancel()
	}
	var errs []error
	if s.eng != nil {
		s.eng.StopApplying() // a faulted apply would keep raft from stopping
	}
	errs = append(errs, s.stopRaft())
	s.bgWG.Wait()
	if s.eng != nil {
		errs = append(errs, s.eng.Close())
	}
	for _, l := range []net.Listener{s.pgLn, s.httpLn} {
		if l != nil {
			if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// nodeID returns the configured id, or the one kept in the data dir, or a
// new one that it keeps there.
func nodeID(dir, configured string) (string, error) {
	path := filepath.Join(dir, "node-id")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		kept := strings.TrimSpace(string(b))
		if configured != "" && configured != kept {
			return "", fmt.Errorf("data dir %s belongs to node %q, not %q", dir, kept, configured)
		}
		return kept, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read node id: %w", err)
	}
	id := configured
	if id == "" {
		var r [6]byte
		if _, err := io.ReadFull(rand.Reader, r[:]); err != nil {
			return "", fmt.Errorf("generate node id: %w", err)
		}
		id = "node-" + hex.EncodeToString(r[:])
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

// now is the clock new entries take their time from.
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}
