package replica

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// snapshot.go: a node's snapshots are references to its own database
// (docs/design.md, "Snapshots are references"). The state machine's
// database is durable on its own and carries its applied index, so a
// snapshot taken for log compaction needs no copy of it: Persist makes the
// state machine durable (Sync) and stores a few bytes naming the applied
// index it covers. Only when raft must send a snapshot to a follower does
// refStore.Open turn the reference into a full copy, taken then, at the
// state machine's applied index at that moment, which is at or past the
// reference's. A follower that installs such a copy stores it as it came
// (a full snapshot) until its next own snapshot replaces it.
//
// A node's disk then holds its database, its WAL and its log, not a second
// copy of the database (issue 15: disk at most about twice the database),
// and a snapshot costs two fsyncs instead of a copy, so raft can take them
// often and keep its log short.

// snapshotsRetained is how many snapshots the file store keeps. One: a
// reference is replaced by the next, and the log is compacted behind the
// newest snapshot, so an older one could not be replayed from anyway.
const snapshotsRetained = 1

// refMagic starts a reference snapshot; a full one starts with SQLite's
// header ("SQLite format 3\x00"), or whatever the state machine writes.
const refMagic = "pgraft-snapshot-ref 1\n"

// encodeRef is the reference to a state machine durable at applied index.
func encodeRef(applied uint64) []byte {
	return []byte(refMagic + "applied " + strconv.FormatUint(applied, 10) + "\n")
}

// decodeRef reports whether head (a snapshot's first bytes) is a reference,
// and the applied index it names.
func decodeRef(head []byte) (applied uint64, ok bool, err error) {
	rest, found := bytes.CutPrefix(head, []byte(refMagic))
	if !found {
		return 0, false, nil
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	num, found := bytes.CutPrefix(line, []byte("applied "))
	if !found {
		return 0, true, fmt.Errorf("snapshot reference %q: no applied index", head)
	}
	applied, err = strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("snapshot reference %q: %w", head, err)
	}
	return applied, true, nil
}

// maxRefSize bounds how much of a snapshot Open reads to tell a reference
// from a full snapshot.
const maxRefSize = 64

// peekRef reads the start of snapshot r without consuming it: br reads the
// whole snapshot, and applied and isRef are decodeRef's.
func peekRef(r io.Reader) (br *bufio.Reader, applied uint64, isRef bool, err error) {
	br = bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(maxRefSize) // a short snapshot gives what there is
	applied, isRef, err = decodeRef(head)
	return br, applied, isRef, err
}

// refSnapshot is raft's FSMSnapshot: the applied index the state machine
// held when raft asked (on the FSM goroutine, so nothing was half applied).
type refSnapshot struct {
	sm       StateMachine
	applied  uint64
	progress *appliedIndex // nil: the state machine holds applied already
	stopping <-chan struct{}
}

// persistWait bounds how long Persist waits for the state machine to make
// the snapshot's commands durable; past it the snapshot is cancelled and
// raft tries again later.
const persistWait = 30 * time.Second

// Persist makes the state machine durable up to (at least) the snapshot's
// applied index, then stores the reference, or cancels the sink on failure
// so raft never keeps a snapshot, and never compacts its log behind one,
// that the database does not hold durably.
func (s *refSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.waitHeld(); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("snapshot at applied index %d: %w", s.applied, err)
	}
	if err := s.sm.Sync(); err != nil {
		_ = sink.Cancel() // the sync error is the one worth reporting
		return fmt.Errorf("snapshot at applied index %d: make the state machine durable: %w", s.applied, err)
	}
	if _, err := sink.Write(encodeRef(s.applied)); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("snapshot at applied index %d: write reference: %w", s.applied, err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("snapshot at applied index %d: close: %w", s.applied, err)
	}
	return nil
}

// waitHeld waits until the state machine's durable applied index reaches
// the snapshot's (a leader's pipelined epoch commits, or breaks and applies
// its entries again, within a round trip or an election).
func (s *refSnapshot) waitHeld() error {
	deadline := time.NewTimer(persistWait)
	defer deadline.Stop()
	for s.sm.AppliedIndex() < s.applied {
		var changed <-chan struct{}
		if s.progress != nil {
			_, changed = s.progress.load()
		}
		tick := time.NewTimer(10 * time.Millisecond)
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline.C:
			tick.Stop()
			return fmt.Errorf("the state machine holds only index %d after %v", s.sm.AppliedIndex(), persistWait)
		case <-s.stopping:
			tick.Stop()
			return fmt.Errorf("the node is stopping; the state machine holds only index %d", s.sm.AppliedIndex())
		}
		tick.Stop()
	}
	return nil
}

// Release has nothing to free: the reference holds no view.
func (s *refSnapshot) Release() {}

// refStore is the node's snapshot store: raft's file store, whose Open
// turns a reference into a full copy of the state machine (for a follower
// that needs a snapshot installed). Every other method is the file
// store's.
type refStore struct {
	raft.SnapshotStore
	sm  StateMachine
	dir string // where materialized copies are written (same file system as the database)
	log *slog.Logger
}

// Open returns the snapshot id. A full snapshot is returned as stored; a
// reference is materialized: the state machine is copied now, into a
// temporary file removed when the reader is closed, and the returned meta
// carries that copy's size. The copy's applied index is at or past the
// reference's: the entries between are committed (this node applied
// them), and the receiving state machine skips them when raft replays
// them from the snapshot's index on.
func (s *refStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.SnapshotStore.Open(id)
	if err != nil {
		return nil, nil, err
	}
	br, applied, isRef, err := peekRef(rc)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	if !isRef {
		return meta, struct {
			io.Reader
			io.Closer
		}{br, rc}, nil
	}
	rc.Close()
	path, size, err := s.materialize(applied)
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	f, err := os.Open(path)
	os.Remove(path) // the open file stays readable; nothing is left behind
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	s.log.Info("materialized snapshot for a follower", "snapshot", id, logKeyIndex, meta.Index, "bytes", size)
	m := *meta
	m.Size = size
	return &m, f, nil
}

// materialize copies the state machine into a new file in s.dir and
// returns its path and size. The copy must hold at least applied.
func (s *refStore) materialize(applied uint64) (path string, size int64, err error) {
	snap, err := s.sm.Snapshot()
	if err != nil {
		return "", 0, fmt.Errorf("copy the state machine: %w", err)
	}
	defer snap.Release()
	if got := snap.Index(); got < applied {
		return "", 0, fmt.Errorf("state machine at applied index %d is behind its snapshot reference (%d)", got, applied)
	}
	if fs, ok := snap.(FileSnapshot); ok {
		path, err = fs.BackupFile(s.dir)
	} else {
		path, err = persistToFile(snap, s.dir)
	}
	if err != nil {
		return "", 0, fmt.Errorf("copy the state machine: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		os.Remove(path)
		return "", 0, fmt.Errorf("copy the state machine: %w", err)
	}
	return path, st.Size(), nil
}

func persistToFile(snap Snapshot, dir string) (string, error) {
	f, err := os.CreateTemp(dir, "snapshot-copy-*")
	if err != nil {
		return "", err
	}
	err = snap.Persist(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// restoreOnStart brings sm up to the newest snapshot when it is behind it
// (DESIGN §9, I2). Raft itself never restores on start
// (NoSnapshotRestoreOnStart): a state machine at or past the snapshot keeps
// its state and skips the replayed entries it already applied. A snapshot
// that fails to restore stops the start-up, saying why, because the log
// before it may be gone.
func restoreOnStart(snaps raft.SnapshotStore, sm StateMachine, log *slog.Logger) error {
	metas, err := snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return nil
	}
	latest := metas[0] // List sorts newest first
	applied := sm.AppliedIndex()
	if applied >= latest.Index {
		log.Info("state machine is at or past the latest snapshot; not restoring",
			"applied", applied, "snapshot", latest.ID, logKeyIndex, latest.Index)
		return nil
	}
	// Read the snapshot raw (not through refStore): a reference is never
	// restored, it is checked.
	_, rc, err := snaps.Open(latest.ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", latest.ID, err)
	}
	defer rc.Close()
	br, refApplied, isRef, err := peekRef(rc)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", latest.ID, err)
	}
	if isRef {
		// Raft stamps a snapshot with its last applied entry, which may be
		// one of its own (no-op, configuration) that never reaches the
		// state machine: the reference names the state machine's own index.
		if applied >= refApplied {
			log.Info("state machine holds its snapshot reference; not restoring",
				"applied", applied, "snapshot", latest.ID, "reference", refApplied)
			return nil
		}
		return fmt.Errorf("the database is at applied index %d, behind the index %d it was made durable at "+
			"for snapshot %s, and the log before that is gone: this node's database was replaced or lost; "+
			"remove the node's data directory and add it to the cluster again (it is then copied from the leader)",
			applied, refApplied, latest.ID)
	}
	log.Info("state machine is behind the latest snapshot; restoring",
		"applied", applied, "snapshot", latest.ID, logKeyIndex, latest.Index)
	if err := sm.Restore(br); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", latest.ID, err)
	}
	// The state machine's own index may be below the snapshot's: raft
	// stamps a snapshot with the last entry it committed, and its no-op,
	// barrier and (in a batch of their own) configuration entries never
	// reach the state machine, which saw every command up to that index.
	// A materialized copy may also be past it (see refStore.Open). Raft
	// does not replay the entries up to the snapshot's index, and the state
	// machine skips those it already holds.
	return nil
}

// Snapshot takes a snapshot now and compacts the log behind it (keeping
// TrailingLogs entries). For tests and operators; raft also snapshots on
// its own (SnapshotThreshold, SnapshotInterval).
func (n *Node) Snapshot() error {
	if n.isShutdown() {
		return ErrShutdown
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("snapshot: %w", translateError(err, false))
	}
	return nil
}

// errNotFullSnapshot is returned by a state machine's Restore given a
// snapshot reference (which only refStore.Open can turn into data).
var errNotFullSnapshot = errors.New("snapshot is a reference, not a copy")
