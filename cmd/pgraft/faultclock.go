package main

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"
)

// faultClockFlagName is the hidden serve flag that lets a fault test move a
// node's clock (DESIGN.md §3: entries take their time from the leader's
// clock, clamped to be monotonic; the chaos harness jumps it to check that).
const faultClockFlagName = "fault-clock-file"

// faultClockReread bounds how stale the offset can be: the file is read at
// most this often, so the hot path is two atomic loads.
const faultClockReread = 100 * time.Millisecond

// faultClockFlag is the hidden --fault-clock-file flag: not for production,
// only for tests that inject clock jumps.
func faultClockFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    faultClockFlagName,
		Hidden:  true,
		EnvVars: []string{"PGRAFT_FAULT_CLOCK_FILE"},
		Usage:   "testing only: add the Go duration in this file (e.g. -90s, +1h) to the clock entries take their time from",
	}
}

// faultClockNow returns a clock that reads time.Now() plus the offset in
// path, or nil (the server's default clock) when path is empty.
func faultClockNow(path string) func() time.Time {
	if path == "" {
		return nil
	}
	return newFaultClock(path, time.Now).Now
}

// faultClock is time.Now shifted by an offset read from a file. A missing
// or unreadable file means no offset; a file that does not parse keeps the
// previous offset (a test writing it non-atomically must not make time
// flap). Safe for concurrent use.
type faultClock struct {
	path string
	wall func() time.Time

	offset atomic.Int64 // nanoseconds
	next   atomic.Int64 // wall UnixNano after which the file is read again
	mu     sync.Mutex   // one reader of the file at a time
}

func newFaultClock(path string, wall func() time.Time) *faultClock {
	return &faultClock{path: path, wall: wall}
}

// Now returns the shifted time.
func (c *faultClock) Now() time.Time {
	now := c.wall()
	if now.UnixNano() >= c.next.Load() {
		c.reload(now)
	}
	return now.Add(time.Duration(c.offset.Load()))
}

// reload reads the file if no other goroutine has done so since now.
func (c *faultClock) reload(now time.Time) {
	if !c.mu.TryLock() {
		return // another caller is reading it; use the current offset
	}
	defer c.mu.Unlock()
	if now.UnixNano() < c.next.Load() {
		return
	}
	c.offset.Store(int64(readOffset(c.path, time.Duration(c.offset.Load()))))
	c.next.Store(now.Add(faultClockReread).UnixNano())
}

// readOffset parses the duration in path: 0 when the file is missing or
// empty, prev when it does not parse.
func readOffset(path string, prev time.Duration) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return prev
	}
	return d
}
