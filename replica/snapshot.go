package replica

import (
	"fmt"
	"log/slog"

	"github.com/hashicorp/raft"
)

// snapshotsRetained is how many snapshots the file store keeps: the newest
// plus one to fall back on.
const snapshotsRetained = 2

// fsmSnapshot persists a StateMachine snapshot into raft's sink. Raft calls
// Persist on its snapshot goroutine, concurrently with ApplyBatch.
type fsmSnapshot struct {
	snap Snapshot
}

// Persist copies the snapshot into sink and closes it, or cancels it on
// failure so raft never keeps a partial snapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.snap.Persist(sink); err != nil {
		_ = sink.Cancel() // the persist error is the one worth reporting
		return fmt.Errorf("persist snapshot at index %d: %w", s.snap.Index(), err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("close snapshot at index %d: %w", s.snap.Index(), err)
	}
	return nil
}

// Release frees the state machine's view.
func (s *fsmSnapshot) Release() { s.snap.Release() }

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
	log.Info("state machine is behind the latest snapshot; restoring",
		"applied", applied, "snapshot", latest.ID, logKeyIndex, latest.Index)
	_, rc, err := snaps.Open(latest.ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", latest.ID, err)
	}
	defer rc.Close()
	if err := sm.Restore(rc); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", latest.ID, err)
	}
	// The state machine's own index may be below the snapshot's: raft
	// stamps a snapshot with the last entry it committed, and its no-op,
	// barrier and (in a batch of their own) configuration entries never
	// reach the state machine, which saw every command up to that index.
	// Raft does not replay the entries up to the snapshot's index, and
	// none of those after the state machine's own changes data.
	if got := sm.AppliedIndex(); got > latest.Index {
		return fmt.Errorf("restore snapshot %s: state machine reports applied index %d, past the snapshot's %d",
			latest.ID, got, latest.Index)
	}
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
