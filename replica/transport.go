package replica

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// raftConnByte is the first byte of every Raft connection on the shared port.
const raftConnByte = 'R'

// sniffTimeout bounds how long a new connection may take to send its first
// byte, so a silent peer cannot hold a goroutine.
const sniffTimeout = 5 * time.Second

// mux shares one TCP listener between Raft and node-to-node RPC. The first
// byte of each accepted connection picks its owner: raftConnByte goes to the
// raft stream layer, a byte registered with handle goes to that handler, and
// anything else is closed.
//
// Goroutines: one accept loop, one short-lived goroutine per new connection
// (until its first byte), and one per RPC connection running its handler.
// close stops them all: it closes the listener and every connection the mux
// handed out, then waits.
type mux struct {
	ln   net.Listener
	log  *slog.Logger
	raft *raftLayer
	tls  *tls.Config // the Raft port's TLS (NodeTLS), nil for plain TCP

	mu       sync.Mutex
	handlers map[byte]func(net.Conn)
	conns    map[net.Conn]struct{} // open connections accepted here
	closed   bool

	done chan struct{}
	wg   sync.WaitGroup
}

// newMux starts accepting on ln. advertise is the address peers dial;
// serverTLS, if set, is the handshake every connection makes first, and
// clientTLS the one the raft layer's dials make.
func newMux(ln net.Listener, advertise net.Addr, serverTLS, clientTLS *tls.Config, log *slog.Logger) *mux {
	m := &mux{
		ln:       ln,
		log:      log,
		tls:      serverTLS,
		handlers: make(map[byte]func(net.Conn)),
		conns:    make(map[net.Conn]struct{}),
		done:     make(chan struct{}),
	}
	m.raft = &raftLayer{
		addr:   advertise,
		tls:    clientTLS,
		conns:  make(chan net.Conn),
		closed: make(chan struct{}),
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.acceptLoop()
	}()
	return m
}

// handle registers fn for connections whose first byte is b. fn owns the
// connection (the byte already consumed) and must return once it is closed.
func (m *mux) handle(b byte, fn func(net.Conn)) error {
	if b == raftConnByte {
		return fmt.Errorf("register rpc byte %q: reserved for raft", b)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.handlers[b]; dup {
		return fmt.Errorf("register rpc byte %q: already registered", b)
	}
	m.handlers[b] = fn
	return nil
}

func (m *mux) acceptLoop() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			if !m.isClosed() {
				m.log.Error("raft port accept failed; no more connections", logKeyErr, err)
			}
			return
		}
		tc := m.track(c)
		if tc == nil {
			return
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.route(tc)
		}()
	}
}

// route reads the first byte and hands the connection to its owner. With
// node TLS the connection's TLS handshake comes first: a peer without a
// certificate from the cluster CA is closed before it can send anything.
func (m *mux) route(c net.Conn) {
	if m.tls != nil {
		tc := tls.Server(c, m.tls)
		_ = tc.SetDeadline(time.Now().Add(sniffTimeout))
		if err := tc.Handshake(); err != nil {
			m.log.Warn("refused a connection to the Raft port: TLS handshake failed",
				logKeyRemote, c.RemoteAddr().String(), logKeyErr, err)
			c.Close()
			return
		}
		_ = tc.SetDeadline(time.Time{})
		c = tc
	}
	var b [1]byte
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if b[0] == raftConnByte {
		select {
		case m.raft.conns <- c:
		case <-m.raft.closed:
			c.Close()
		case <-m.done:
			c.Close()
		}
		return
	}
	m.mu.Lock()
	fn := m.handlers[b[0]]
	m.mu.Unlock()
	if fn == nil {
		m.log.Warn("closing connection with unknown first byte", logKeyRemote, c.RemoteAddr().String(), "byte", b[0])
		c.Close()
		return
	}
	defer c.Close()
	fn(c) // runs on this goroutine, which close waits for
}

// track records c so close can close it; nil when the mux is closed.
func (m *mux) track(c net.Conn) net.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		c.Close()
		return nil
	}
	m.conns[c] = struct{}{}
	return &trackedConn{Conn: c, untrack: func() { m.untrack(c) }}
}

func (m *mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

func (m *mux) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// close stops accepting, closes every connection accepted here (Raft's
// included) and waits for the mux's goroutines. Idempotent.
func (m *mux) close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	conns := make([]net.Conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	err := m.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	m.raft.Close()
	m.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// trackedConn removes itself from the mux's set when closed.
type trackedConn struct {
	net.Conn
	once    sync.Once
	untrack func()
}

func (c *trackedConn) Close() error {
	c.once.Do(c.untrack)
	return c.Conn.Close()
}

// raftLayer is the raft.StreamLayer on the shared port: Accept yields the
// connections the mux routed to Raft, Dial announces itself with
// raftConnByte.
type raftLayer struct {
	addr      net.Addr
	tls       *tls.Config // client side of node TLS, nil for plain TCP
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

var _ raft.StreamLayer = (*raftLayer)(nil)

// Accept returns the next Raft connection.
func (l *raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Accept. The listener belongs to the mux, which closes it.
func (l *raftLayer) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

// Addr is the advertised address, which raft stores in its configuration.
func (l *raftLayer) Addr() net.Addr { return l.addr }

// Dial opens a Raft connection to a peer's shared port.
func (l *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return dialPort(ctx, string(address), raftConnByte, l.tls)
}

// dialPort connects to a node's shared port (over TLS when tc is set) and
// sends the first byte that routes the connection on the other side.
func dialPort(ctx context.Context, addr string, first byte, tc *tls.Config) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if tc != nil {
		tlc := tls.Client(c, tc)
		if err := tlc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("dial %s: TLS: %w", addr, err)
		}
		c = tlc
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	}
	if _, err := c.Write([]byte{first}); err != nil {
		c.Close()
		return nil, fmt.Errorf("dial %s: send first byte: %w", addr, err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

// advertisedAddr is a net.Addr for a host:port that may be a name.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

// HandleRPC routes connections to this node's Raft port whose first byte is
// b to fn (node-to-node RPC sharing the port). fn owns the connection, runs
// on a goroutine the Node owns, and must return once the connection is
// closed: Shutdown closes it and waits. Register before peers dial; b must
// not be 'R' (Raft's) or MembershipRPCByte (the Node's own).
func (n *Node) HandleRPC(b byte, fn func(net.Conn)) error {
	return n.mux.handle(b, fn)
}

// DialRPC connects to a peer's Raft port (addr as in Leader or Status) and
// sends b, so the peer hands the connection to its HandleRPC handler.
func (n *Node) DialRPC(ctx context.Context, addr string, b byte) (net.Conn, error) {
	if b == raftConnByte {
		return nil, fmt.Errorf("dial rpc byte %q: reserved for raft", b)
	}
	return dialPort(ctx, addr, b, n.clientTLS)
}
