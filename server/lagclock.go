package server

import (
	"sync"
	"time"
)

// lagClock remembers when this node applied which log index, so that the
// leader can say how far behind a member is in time as well as in entries
// (pg_stat_replication's write_lag, flush_lag and replay_lag; the
// pgraft_raft_follower_lag_seconds metric). On the leader an entry is
// applied right after it is committed, so a member's lag is the time since
// this node applied the first index the member has not: measured with
// samples at most lagSampleEvery apart, it is low by up to that much, and
// beyond the samples' window (lagSamples × lagSampleEvery at least) it is
// the window's age, a lower bound.
type lagClock struct {
	mu      sync.Mutex
	samples [lagSamples]lagSample // a ring, oldest at next once full
	next, n int
}

type lagSample struct {
	index uint64 // the last index applied at
	at    time.Time
}

const (
	lagSamples     = 1024
	lagSampleEvery = 10 * time.Millisecond
)

// record notes that index was applied at now. A sample within
// lagSampleEvery of the previous one moves that one's index forward
// instead, keeping its (earlier) time.
func (c *lagClock) record(index uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n > 0 {
		last := &c.samples[(c.next+lagSamples-1)%lagSamples]
		if index <= last.index {
			return // a restore or replay: nothing new
		}
		if now.Sub(last.at) < lagSampleEvery {
			last.index = index
			return
		}
	}
	c.samples[c.next] = lagSample{index, now}
	c.next = (c.next + 1) % lagSamples
	c.n = min(c.n+1, lagSamples)
}

// lag is how long ago this node applied the first index after applied: 0
// when applied is at or past everything recorded.
func (c *lagClock) lag(applied uint64, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 || c.samples[(c.next+lagSamples-1)%lagSamples].index <= applied {
		return 0
	}
	// The oldest sample whose index is past applied: samples are in index
	// order from the oldest.
	oldest := (c.next + lagSamples - c.n) % lagSamples
	lo, hi := 0, c.n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if c.samples[(oldest+mid)%lagSamples].index > applied {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return max(now.Sub(c.samples[(oldest+lo)%lagSamples].at), 0)
}
