package replica

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

// fsm adapts a StateMachine to raft.BatchingFSM. It unwraps envelopes and
// hands commands on in order; it decides nothing. Raft calls it from its
// one FSM goroutine.
type fsm struct {
	sm      StateMachine
	applied *appliedIndex
	// lastCmd is the index of the last command handed to sm (FSM
	// goroutine only): a snapshot taken now stands for the log up to it.
	lastCmd uint64
	// stopping closes when the node starts to shut down.
	stopping <-chan struct{}
}

var _ raft.BatchingFSM = (*fsm)(nil)

// Apply is raft's single-entry path; it never runs with a BatchingFSM but
// must behave the same if it does.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies the commands in logs with one sm.ApplyBatch call and
// returns one response per log (nil for raft's own entries and skipped
// ones). An entry whose envelope this build cannot decode panics: halting
// beats diverging from the nodes that applied it (only a newer build's
// entry can be one; the join check keeps those out).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	if len(logs) == 0 {
		return out
	}
	cmds := make([]Command, 0, len(logs))
	at := make([]int, 0, len(logs)) // position in logs of each command
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue // no-ops, configuration changes: raft's own entries
		}
		e, err := decodeEntry(l.Data)
		if err != nil {
			panic(fmt.Sprintf("replica: entry %d (term %d): %v", l.Index, l.Term, err))
		}
		if e.typ.skippable() {
			continue // a newer optional type this node does not know
		}
		cmds = append(cmds, Command{Index: l.Index, Term: l.Term, Data: e.payload})
		at = append(at, i)
	}
	if len(cmds) > 0 {
		f.lastCmd = cmds[len(cmds)-1].Index
		resps := f.sm.ApplyBatch(cmds)
		if len(resps) != len(cmds) {
			panic(fmt.Sprintf("replica: state machine returned %d responses for %d commands (entries %d..%d)",
				len(resps), len(cmds), cmds[0].Index, cmds[len(cmds)-1].Index))
		}
		for j, i := range at {
			out[i] = resps[j]
		}
	}
	// Raft's own entries change no data, so once the batch is through, this
	// node has applied up to its last index even if the state machine only
	// records the last command's. A state machine that gave up on the batch
	// (it was stopped while it could not apply it) is not past its
	// commands: publish only what it holds.
	if n := len(cmds); n > 0 && f.sm.AppliedIndex() < cmds[n-1].Index {
		f.applied.advance(f.sm.AppliedIndex())
		return out
	}
	f.applied.advance(max(logs[len(logs)-1].Index, f.sm.AppliedIndex()))
	return out
}

// Snapshot notes the applied index; Persist makes the state machine
// durable there and stores a reference to it (snapshot.go).
//
// Raft counts every command handed to the state machine as applied, but a
// state machine may make some durable later (a leader's pipelined writes
// commit in SQLite once the whole epoch is back from the log): the
// reference stands for the last command handed over, and Persist waits
// until the state machine holds it.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &refSnapshot{sm: f.sm, applied: max(f.lastCmd, f.sm.AppliedIndex()), progress: f.applied, stopping: f.stopping}, nil
}

// Restore replaces the state with a snapshot sent by the leader (or taken
// locally), then publishes the restored applied index.
func (f *fsm) Restore(rc io.ReadCloser) error {
	f.lastCmd = 0
	defer rc.Close()
	br, _, isRef, _ := peekRef(rc)
	if isRef {
		return fmt.Errorf("state machine restore: %w", errNotFullSnapshot)
	}
	if err := f.sm.Restore(br); err != nil {
		return fmt.Errorf("state machine restore: %w", err)
	}
	f.applied.set(f.sm.AppliedIndex())
	return nil
}

// appliedIndex publishes the applied index to WaitApplied callers. ch is
// closed and replaced on every change, so waiters block on a channel rather
// than poll.
type appliedIndex struct {
	mu    sync.Mutex
	index uint64
	ch    chan struct{}
}

func newAppliedIndex(index uint64) *appliedIndex {
	return &appliedIndex{index: index, ch: make(chan struct{})}
}

// advance raises the index to i (never lowers it) and wakes waiters.
func (a *appliedIndex) advance(i uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i <= a.index {
		return
	}
	a.index = i
	close(a.ch)
	a.ch = make(chan struct{})
}

// set replaces the index (a restore may move it anywhere) and wakes waiters.
func (a *appliedIndex) set(i uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.index = i
	close(a.ch)
	a.ch = make(chan struct{})
}

// load returns the index and the channel closed at its next change.
func (a *appliedIndex) load() (uint64, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.index, a.ch
}

// wait returns when the index reaches target, ctx ends, or stop closes.
func (a *appliedIndex) wait(ctx context.Context, target uint64, stop <-chan struct{}) error {
	for {
		cur, changed := a.load()
		if cur >= target {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for applied index %d (at %d): %w", target, cur, ctx.Err())
		case <-stop:
			return ErrShutdown
		}
	}
}
