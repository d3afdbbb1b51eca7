package server

import (
	"context"
	"sync"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// gate admits writes on the leader (DESIGN.md §4): a FIFO queue in which
// autocommit writes are shared holders (consecutive ones are admitted
// together: they are just proposals) and interactive write transactions and
// DDL are exclusive holders, who wait for everything queued before them and
// block everything after them until they release.
type gate struct {
	mu        sync.Mutex
	shared    int  // shared holders now
	exclusive bool // an exclusive holder now
	queue     []*gateWaiter
}

type gateWaiter struct {
	exclusive bool
	ready     chan struct{} // closed when granted
	granted   bool
}

// acquire waits for the gate in the given mode until ctx ends. A caller
// whose wait ends unsuccessfully gets 55P03 (lock_timeout) or the context's
// cancellation error.
func (g *gate) acquire(ctx context.Context, exclusive bool) error {
	g.mu.Lock()
	if len(g.queue) == 0 && g.compatible(exclusive) {
		g.grant(exclusive)
		g.mu.Unlock()
		return nil
	}
	w := &gateWaiter{exclusive: exclusive, ready: make(chan struct{})}
	g.queue = append(g.queue, w)
	g.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if w.granted { // granted while we gave up: hand it on
		g.releaseLocked(exclusive)
		return ctx.Err()
	}
	for i, q := range g.queue {
		if q == w {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			break
		}
	}
	g.wakeLocked() // a waiter behind us may now be compatible
	return ctx.Err()
}

func (g *gate) compatible(exclusive bool) bool {
	if exclusive {
		return !g.exclusive && g.shared == 0
	}
	return !g.exclusive
}

func (g *gate) grant(exclusive bool) {
	if exclusive {
		g.exclusive = true
	} else {
		g.shared++
	}
}

// release gives the gate back.
func (g *gate) release(exclusive bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked(exclusive)
}

func (g *gate) releaseLocked(exclusive bool) {
	if exclusive {
		g.exclusive = false
	} else {
		g.shared--
	}
	g.wakeLocked()
}

// wakeLocked grants waiters from the head of the queue while they fit.
func (g *gate) wakeLocked() {
	for len(g.queue) > 0 && g.compatible(g.queue[0].exclusive) {
		w := g.queue[0]
		g.queue = g.queue[1:]
		g.grant(w.exclusive)
		w.granted = true
		close(w.ready)
	}
}

// lockTimeoutError is what a session gets when its gate wait hit lock_timeout.
func lockTimeoutError() error {
	return pgerror.New(pgerror.LockNotAvailable, "canceling statement due to lock timeout").
		WithDetail("Another transaction holds the write gate.")
}
