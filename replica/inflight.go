package replica

import (
	"context"
	"sync"
)

// inflight.go bounds the bytes of the entries a node has handed to raft and
// not yet seen applied (DESIGN §11: proposals in flight are bounded, with
// backpressure instead of unbounded queues). Raft keeps every entry it has
// been given in memory until it commits: a hundred sessions each sending a
// 16 MiB COPY would otherwise queue 1.6 GiB. A proposal waits for room,
// bounded by its context (the entry is then not appended); one larger than
// the whole budget goes when nothing else is in flight.

// defaultMaxInflightBytes is Config.MaxInflightBytes' default: four entries
// of the largest size.
const defaultMaxInflightBytes = 64 << 20

// inflight is the byte budget of a node's proposals.
type inflight struct {
	limit int64
	mu    sync.Mutex
	used  int64
	// room is closed when bytes are released; made by the first waiter,
	// so that a proposal nobody waits behind allocates nothing.
	room chan struct{}
}

func newInflight(limit int64) *inflight {
	return &inflight{limit: limit}
}

// acquire takes n bytes, waiting while they do not fit, until ctx ends.
func (f *inflight) acquire(ctx context.Context, n int64) error {
	for {
		f.mu.Lock()
		if f.used == 0 || f.used+n <= f.limit {
			f.used += n
			f.mu.Unlock()
			return nil
		}
		if f.room == nil {
			f.room = make(chan struct{})
		}
		room := f.room
		f.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release returns n bytes acquire took and wakes the waiters.
func (f *inflight) release(n int64) {
	f.mu.Lock()
	f.used -= n
	if f.room != nil {
		close(f.room)
		f.room = nil
	}
	f.mu.Unlock()
}

// bytes is what is in flight now.
func (f *inflight) bytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used
}
