package server

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// diskspace.go: a leader refuses writes when its data dir's file system is
// nearly full, with PostgreSQL's 53100, before anything reaches the log. A
// write that filled the disk instead would fail inside the Raft log's own
// append, where the node can only stop (replica/logstore.go), or inside
// apply, where it stops applying until space is freed (fault.go).

// defaultMinFreeDisk is Config.MinFreeDisk's default.
const defaultMinFreeDisk = 64 << 20

// diskCheckEvery is how long one look at the free space is trusted.
const diskCheckEvery = time.Second

// diskSpace caches the free space of the data dir.
type diskSpace struct {
	mu      sync.Mutex
	at      time.Time
	free    uint64
	statErr error
}

// freeBytes returns the free space available to this process on dir's
// file system, looked at most once a diskCheckEvery.
func (d *diskSpace) freeBytes(dir string) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) < diskCheckEvery {
		return d.free, d.statErr
	}
	var st syscall.Statfs_t
	d.statErr = syscall.Statfs(dir, &st)
	d.free = st.Bavail * uint64(st.Bsize)
	d.at = time.Now()
	return d.free, d.statErr
}

// diskFull returns 53100 when the data dir has less free space than a
// write needs to be logged and applied safely.
func (s *Server) diskFull() error {
	need := s.cfg.MinFreeDisk
	if need == 0 {
		need = defaultMinFreeDisk
	}
	free, err := s.disk.freeBytes(s.cfg.DataDir)
	if err != nil || free >= need {
		return nil // cannot tell: the write goes on, and a real failure is a fault
	}
	return pgerror.New(pgerror.DiskFull, "could not extend the database: %s free on the data directory's file system, %s needed for writes",
		byteSize(free), byteSize(need)).
		WithHint("Free space on the node's disk; writes resume by themselves.")
}

func byteSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
