package replica

import "io"

// Command is one committed log entry's payload, as handed to the StateMachine.
type Command struct {
	Index uint64 // Raft log index of the entry
	Term  uint64 // Raft term of the entry
	Data  []byte // the payload given to Propose, without the envelope
}

// StateMachine is what replica drives. sqlengine.Engine implements it without
// importing this package; server pins that at compile time.
//
// Threading contract (hashicorp/raft's): ApplyBatch, Snapshot and Restore are
// called from one goroutine, never concurrently with each other. The
// SnapshotSink returned by Snapshot is persisted on another goroutine,
// concurrently with later ApplyBatch calls.
type StateMachine interface {
	// ApplyBatch applies committed commands in log order and returns one
	// response per command (the value Propose hands back on the leader).
	// Commands at or below AppliedIndex must be skipped (their response is
	// nil). A command that fails with a data error (constraint violation…)
	// yields that error as its response. When the node cannot apply a
	// command at all (disk full, I/O error), the state machine applies
	// nothing of the batch and tries again until it can; if it is told to
	// stop meanwhile, it returns with AppliedIndex below the batch's
	// commands, and this node publishes no progress.
	ApplyBatch(cmds []Command) []any

	// AppliedIndex returns the highest index whose effects are durable in
	// the state machine (stored with them, so it survives a restart).
	AppliedIndex() uint64

	// Sync makes every command applied so far durable, so that the node's
	// snapshot (a reference to the state machine, see snapshot.go) can
	// stand in for the log behind it. Called concurrently with ApplyBatch.
	Sync() error

	// Snapshot captures the state at the current applied index, for a copy
	// sent to a follower. It must be cheap: the copy happens in Persist (or
	// FileSnapshot.BackupFile). Called concurrently with ApplyBatch.
	Snapshot() (Snapshot, error)

	// Restore replaces the whole state with a snapshot's contents.
	Restore(r io.Reader) error
}

// Snapshot is a point-in-time view of the state machine.
type Snapshot interface {
	// Index is the applied index the snapshot holds.
	Index() uint64
	// Persist writes the snapshot to w. Called concurrently with ApplyBatch.
	Persist(w io.Writer) error
	// Release frees the view, whether Persist ran or not.
	Release()
}

// FileSnapshot is a Snapshot that can copy itself straight into a file
// (SQLite's backup API writes a database file, not a stream).
type FileSnapshot interface {
	Snapshot
	// BackupFile writes the snapshot into a new file in dir and returns
	// its path; the caller removes it.
	BackupFile(dir string) (string, error)
}
