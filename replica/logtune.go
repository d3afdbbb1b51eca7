package replica

import (
	"context"
	"time"

	"github.com/hashicorp/raft"
)

// logtune.go sizes the log kept behind a snapshot (raft's TrailingLogs) to
// the state machine, unless Config.TrailingLogs fixes it. The trailing log
// lets a follower that fell behind catch up with entries; beyond it, the
// follower is sent a copy of the whole database. For a small database a
// copy is cheap and a long log would be most of the node's disk (issue 15:
// at most about twice the database); for a large one a copy is costly and
// a long log is small beside it. So the log kept is about a quarter of the
// database's size, between minTrailingLogs and maxTrailingLogs entries,
// and, unless Config.SnapshotThreshold fixes it, a snapshot is taken after
// half as many new entries: the log on disk then stays near three eighths
// of the database plus what is written between two of raft's checks
// (SnapshotInterval).

const (
	minTrailingLogs = 512
	maxTrailingLogs = 262144
	// minSnapshotThreshold bounds how often a sized log snapshots.
	minSnapshotThreshold = 256
	// logEntryDiskBytes is what a small entry (a one-row INSERT) costs in
	// raft-boltdb: about 320 bytes, in B+tree leaves that sequential
	// appends leave half full. raft-wal (the default) stores an entry in
	// about its own size, so its log comes out smaller than sized here.
	logEntryDiskBytes = 768
	// tuneLogEvery is how often the size is looked at again.
	tuneLogEvery = 10 * time.Second
)

// sizer is a StateMachine that knows its size on disk (sqlengine.Engine:
// its database file).
type sizer interface {
	Size() int64
}

// trailingLogsFor is the trailing log for sm: a quarter of its size in
// entries, within bounds (minTrailingLogs when sm cannot say).
func trailingLogsFor(sm StateMachine) uint64 {
	s, ok := sm.(sizer)
	if !ok {
		return minTrailingLogs
	}
	n := uint64(max(s.Size(), 0)) / 4 / logEntryDiskBytes
	return min(max(n, minTrailingLogs), maxTrailingLogs)
}

// snapshotThresholdFor is the snapshot threshold that goes with a trailing
// log of trailing entries.
func snapshotThresholdFor(trailing uint64) uint64 {
	return max(trailing/2, minSnapshotThreshold)
}

// sizeLog sets rc's trailing log, and its snapshot threshold unless fixed,
// for the state machine's size; it reports whether the trailing log moved
// by more than a quarter (worth a reload).
func (n *Node) sizeLog(rc *raft.ReloadableConfig) bool {
	want, have := trailingLogsFor(n.sm), rc.TrailingLogs
	if want <= have+have/4 && want >= have-have/4 {
		return false
	}
	rc.TrailingLogs = want
	if n.cfg.SnapshotThreshold == 0 {
		rc.SnapshotThreshold = snapshotThresholdFor(want)
	}
	return true
}

// tuneTrailingLogs follows the state machine's size until ctx ends,
// reloading raft's configuration when the trailing log should change by
// more than a quarter.
func (n *Node) tuneTrailingLogs(ctx context.Context) {
	t := time.NewTicker(tuneLogEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rc := n.raft.ReloadableConfig()
		was := rc.TrailingLogs
		if !n.sizeLog(&rc) {
			continue
		}
		if err := n.raft.ReloadConfig(rc); err != nil {
			n.log.Warn("resize the trailing log", "entries", rc.TrailingLogs, "err", err)
			continue
		}
		n.log.Debug("resized the trailing log", "entries", rc.TrailingLogs, "was", was,
			"snapshot_threshold", rc.SnapshotThreshold)
	}
}
