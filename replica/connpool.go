package replica

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// connPool keeps idle RPC connections to one address (the leader's) for
// reuse, so a follower's linearizable reads do not dial per read. A
// connection goes back to the pool only after a complete exchange; one to
// another address, or beyond max idle ones, is closed. The serving side
// closes a connection idle for rpcIdleTimeout, so a pooled connection may
// be dead: callers retry a request that failed on a pooled connection once
// on a fresh one (read-index requests are idempotent).
type connPool struct {
	first byte // the RPC's first byte
	max   int
	tls   *tls.Config // node TLS's client side, nil for plain TCP

	mu     sync.Mutex
	addr   string
	idle   []net.Conn
	closed bool
}

func newConnPool(first byte, max int, tc *tls.Config) *connPool {
	return &connPool{first: first, max: max, tls: tc}
}

// get returns an idle connection to addr (reused true) or dials one.
func (p *connPool) get(ctx context.Context, addr string) (c net.Conn, reused bool, err error) {
	p.mu.Lock()
	if p.addr == addr && len(p.idle) > 0 {
		c = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	dctx, cancel := context.WithTimeout(ctx, rpcDialTimeout)
	defer cancel()
	c, err = dialPort(dctx, addr, p.first, p.tls)
	return c, false, err
}

// put returns a healthy connection to addr to the pool.
func (p *connPool) put(addr string, c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= p.max && p.addr == addr {
		c.Close()
		return
	}
	if p.addr != addr { // the leader moved: the old connections are useless
		p.closeIdleLocked()
		p.addr = addr
	}
	p.idle = append(p.idle, c)
}

// close closes the idle connections; later puts close theirs.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.closeIdleLocked()
}

func (p *connPool) closeIdleLocked() {
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
}
