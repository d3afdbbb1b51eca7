package replica

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"go.etcd.io/bbolt"
)

// logstore.go opens the durable Raft log: hashicorp/raft-wal by default
// (Consul's log store: segment files in raft/wal, appended with one fsync
// per batch), or raft-boltdb's raft/raft.db (two fsyncs per batch) when
// Config.LogStore asks for it. Every node appends before it acknowledges,
// and the leader before it replicates, so the fsyncs are on every write's
// path: with raft-wal a three-node cluster takes about 1.6 times the
// autocommit inserts of one client (issue 12). BoltDB was the default
// while the chaos suite had seen a divergence with raft-wal; it was seen
// with BoltDB too, and its cause (a deposed leader stamping an entry with
// the new term through raft's heartbeat fast path) was fixed in
// commitclamp.go. A data dir keeps the store it was created with.

// Log store kinds (Config.LogStore).
const (
	LogStoreWAL  = "wal"  // raft-wal segment files in raft/wal (the default)
	LogStoreBolt = "bolt" // raft-boltdb's raft/raft.db
)

// defaultWALSegmentSize is the size of one raft-wal segment file, allocated
// when the segment is created (appends inside it cannot run out of space).
// Far smaller than raft-wal's 64 MiB default: segments are dropped whole
// after a snapshot, and the open one is allocated whole, so the log of a
// small database stays near its size (a node holds at most about twice
// its database, issue 15). A larger entry goes into one segment anyway.
const defaultWALSegmentSize = 1 << 20

// logStore is the Raft log and stable store of a node.
type logStore interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// lockedStore releases the data dir's lock once the store is closed.
type lockedStore struct {
	logStore
	lock *os.File
}

// IsMonotonic passes raft.MonotonicLogStore through: raft-wal refuses a gap
// in the log, and raft then drops the whole log when it installs a
// snapshot instead of leaving a gap after it (a wrapper that hid this left
// followers stuck after a snapshot install).
func (s *lockedStore) IsMonotonic() bool {
	m, ok := s.logStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// Writes to the log that fail halt the node. hashicorp/raft goes on after a
// failed append or truncation with its in-memory last index out of step
// with the store (a TODO in its appendEntries says so): such a node can
// then vote, or lead, on a log it does not have, and a write acknowledged
// to its client can be lost (a follower on a full disk that kept running
// after "failed to append to logs" did that). etcd treats WAL write errors
// as fatal for the same reason; the node restarts on what its log really
// holds.

// StoreLog implements raft.LogStore; a failure halts the node.
func (s *lockedStore) StoreLog(l *raft.Log) error {
	return mustWrite("append to the raft log", s.logStore.StoreLog(l))
}

// StoreLogs implements raft.LogStore; a failure halts the node.
func (s *lockedStore) StoreLogs(logs []*raft.Log) error {
	return mustWrite("append to the raft log", s.logStore.StoreLogs(logs))
}

// DeleteRange implements raft.LogStore; a failure halts the node.
func (s *lockedStore) DeleteRange(min, max uint64) error {
	return mustWrite("truncate the raft log", s.logStore.DeleteRange(min, max))
}

// Set implements raft.StableStore; a failure halts the node.
func (s *lockedStore) Set(key, val []byte) error {
	return mustWrite("write raft state", s.logStore.Set(key, val))
}

// SetUint64 implements raft.StableStore; a failure halts the node.
func (s *lockedStore) SetUint64(key []byte, val uint64) error {
	return mustWrite("write raft state", s.logStore.SetUint64(key, val))
}

// mustWrite halts the process on a failed write to the Raft log or state.
func mustWrite(what string, err error) error {
	if err != nil {
		panic(fmt.Sprintf("replica: cannot %s: %v: halting, the node restarts from what its log holds", what, err))
	}
	return nil
}

func (s *lockedStore) Close() error {
	err := s.logStore.Close()
	s.lock.Close() // closing the descriptor releases the flock
	return err
}

// openLogStore opens (or creates) the log store in dir, holding an
// exclusive lock on dir/LOCK so that a second process on the same data
// dir fails at once instead of corrupting it or hanging.
func openLogStore(dir, kind string, segmentSize int) (logStore, string, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, "", err
	}
	store, used, err := openUnlocked(dir, kind, segmentSize)
	if err != nil {
		lock.Close()
		return nil, "", err
	}
	return &lockedStore{logStore: store, lock: lock}, used, nil
}

func openUnlocked(dir, kind string, segmentSize int) (logStore, string, error) {
	boltPath := filepath.Join(dir, "raft.db")
	walDir := filepath.Join(dir, "wal")
	_, walErr := os.Stat(walDir)
	if _, err := os.Stat(boltPath); err == nil || kind == LogStoreBolt && walErr != nil {
		store, err := raftboltdb.New(raftboltdb.Options{
			Path:        boltPath,
			BoltOptions: &bbolt.Options{Timeout: time.Second},
		})
		if err != nil {
			return nil, "", fmt.Errorf("open raft log %s: %w", boltPath, err)
		}
		return store, LogStoreBolt, nil
	}
	if err := os.MkdirAll(walDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create raft log dir: %w", err)
	}
	if segmentSize <= 0 {
		segmentSize = defaultWALSegmentSize
	}
	meta := &metadb.BoltMetaDB{}
	store, err := wal.Open(walDir, wal.WithSegmentSize(segmentSize), wal.WithMetaStore(meta))
	if err != nil {
		meta.Close()
		return nil, "", fmt.Errorf("open raft log %s: %w", walDir, err)
	}
	return &walStore{WAL: store, meta: meta}, LogStoreWAL, nil
}

// walStore closes the WAL's meta database too, which WAL.Close (v0.4.0)
// leaves open: a node reopened in the same process would wait forever on
// its file lock.
type walStore struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
}

func (s *walStore) Close() error {
	return errors.Join(s.WAL.Close(), s.meta.Close())
}

// errDirLocked says another process uses the data dir.
var errDirLocked = errors.New("another process holds the raft directory")

// lockDir takes an exclusive, non-blocking flock on dir/LOCK.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, errDirLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
