package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Log keys, spelled as everywhere in pgraft.
const (
	logKeyComponent = "component"
	logKeyConn      = "conn"
	logKeyRemote    = "remote"
	logKeyErr       = "err"
	logKeySQLState  = "sqlstate"
)

const (
	defaultMaxMessageSize = 64 << 20
	// firstProcessID keeps BackendKeyData process ids away from 0, which some
	// clients treat as "no key received".
	firstProcessID = 10000
)

// Server serves the PostgreSQL protocol on listeners, handing every
// authenticated connection to Handler. Its zero value (with Handler set) is
// ready to use; fields must not change after the first Serve.
type Server struct {
	Handler   Handler
	Logger    *slog.Logger // nil: discard
	TLSConfig *tls.Config  // nil: SSLRequest is answered 'N'
	// TLSRequired refuses a session that did not negotiate TLS with FATAL
	// 28000, after its StartupMessage, as PostgreSQL does when pg_hba.conf
	// has only hostssl lines.
	TLSRequired    bool
	MaxMessageSize int // 0: 64 MiB; a larger message is a FATAL 54000
	// ClientCheckInterval is how often a busy connection checks whether its
	// client went away (peer.go), cancelling the statement if it did; as
	// PostgreSQL's client_connection_check_interval, but on by default.
	// 0: 1s; negative: never. Linux only: elsewhere no check happens.
	ClientCheckInterval time.Duration
	// Passwords, when set, makes every session authenticate with
	// SCRAM-SHA-256 against the verifiers it returns (scram.go); nil lets
	// everyone in (PostgreSQL's trust). SCRAMMockKey makes up the verifiers
	// of users that cannot log in; nodes of one cluster should share it.
	Passwords    Passwords
	SCRAMMockKey func() []byte
	// Admit, when set, is asked after each StartupMessage, before
	// authentication, whether the server takes sessions now; its error (a
	// *pgerror.Error, e.g. 57P03 "the database system is starting up") is
	// sent as FATAL and the connection closed.
	Admit func() error

	initOnce     sync.Once
	authFailures authFailures // password failures by host, for the delay
	log          *slog.Logger
	baseCtx      context.Context    // parent of every connection's context
	cancel       context.CancelFunc // cancels baseCtx; called by Close
	done         chan struct{}      // closed by the first Shutdown or Close

	closing atomic.Bool   // set by Shutdown and Close; read by idle connections
	nextPID atomic.Uint32 // BackendKeyData process ids, firstProcessID+1 onwards
	nextID  atomic.Uint64 // connection ids for logs

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup // one per connection goroutine

	keysMu sync.Mutex
	keys   map[uint32]*conn // live sessions by process id, for CancelRequest
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
		}
		s.log = s.log.With(logKeyComponent, "pgwire")
		s.baseCtx, s.cancel = context.WithCancel(context.Background())
		s.done = make(chan struct{})
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[*conn]struct{})
		s.keys = make(map[uint32]*conn)
		s.nextPID.Store(firstProcessID)
	})
}

func (s *Server) maxMessageSize() int {
	if s.MaxMessageSize > 0 {
		return s.MaxMessageSize
	}
	return defaultMaxMessageSize
}

// Serve accepts connections on l and serves each on its own goroutine. It
// blocks until l fails or the server is shut down, closes l, and returns
// ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	if !s.trackListener(l, true) {
		l.Close()
		return ErrServerClosed
	}
	defer s.trackListener(l, false)
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if !isTemporary(err) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of file descriptors and the like: back off as net/http
			// does instead of spinning.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", logKeyErr, err, "delay", delay)
			select {
			case <-time.After(delay):
			case <-s.done:
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		if !s.startConn(nc) {
			nc.Close()
		}
	}
}

func isTemporary(err error) bool {
	var te interface{ Temporary() bool }
	return errors.As(err, &te) && te.Temporary()
}

// trackListener adds or removes l; adding fails once the server is closing.
func (s *Server) trackListener(l net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.listeners, l)
		return true
	}
	if s.closing.Load() {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

// startConn registers nc and starts its goroutine; it refuses once the server
// is closing, so that wg.Add never races with Shutdown's wg.Wait.
func (s *Server) startConn(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	c := newConn(s, nc, s.nextID.Add(1))
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.forgetConn(c)
		c.serve()
	}()
	return true
}

func (s *Server) forgetConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// beginClose stops accepting: it marks the server closing and closes every
// listener. It returns the connections alive at that moment.
func (s *Server) beginClose() []*conn {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing.Swap(true) {
		close(s.done)
	}
	for l := range s.listeners {
		l.Close()
		delete(s.listeners, l)
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// Shutdown stops accepting connections, sends FATAL 57P01 to idle ones and
// closes them, and waits for busy ones to reach their next ReadyForQuery (when
// they get the same treatment). If ctx ends first it closes the rest as Close
// does and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, c := range s.beginClose() {
		c.interruptIfIdle()
	}
	drained := make(chan struct{})
	go func() { // ends when the last connection goroutine has ended
		s.wg.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes every listener and connection at once: each connection's
// context is cancelled, its session's Cancel is called and its socket closed.
// It waits for the connection goroutines, which end as soon as the Session
// methods they are in return.
func (s *Server) Close() error {
	conns := s.beginClose()
	s.cancel()
	for _, c := range conns {
		c.forceClose()
	}
	s.wg.Wait()
	return nil
}
