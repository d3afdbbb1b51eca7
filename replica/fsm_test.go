package replica

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func cmdLog(index uint64, data string) *raft.Log {
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: encodeEntry(entryStatements, []byte(data))}
}

func newTestFSM() (*fsm, *kv) {
	sm := newKV()
	return &fsm{sm: sm, applied: newAppliedIndex(0)}, sm
}

func TestFSMApplyBatch(t *testing.T) {
	f, sm := newTestFSM()
	logs := []*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogConfiguration, Data: []byte("not an envelope")},
		{Index: 2, Term: 1, Type: raft.LogNoop},
		cmdLog(3, "a=1"),
		{Index: 4, Term: 1, Type: raft.LogCommand, Data: encodeEntry(0x90, []byte("from the future"))},
		cmdLog(5, "malformed"),
		cmdLog(6, "b=2"),
	}
	out := f.ApplyBatch(logs)
	if len(out) != len(logs) {
		t.Fatalf("got %d responses for %d logs", len(out), len(logs))
	}
	for _, i := range []int{0, 1, 3} {
		if out[i] != nil {
			t.Errorf("response %d (skipped entry) = %v, want nil", i, out[i])
		}
	}
	if out[2] != "set a" || out[5] != "set b" {
		t.Errorf("responses = %v, want \"set a\" at 2 and \"set b\" at 5", out)
	}
	if err, ok := out[4].(error); !ok || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("response 4 = %v, want the state machine's data error", out[4])
	}
	if got := sm.snapshotHistory(); strings.Join(got, ",") != "3:a=1,6:b=2" {
		t.Errorf("applied history = %v", got)
	}
	if got, _ := f.applied.load(); got != 6 {
		t.Errorf("published applied index = %d, want 6", got)
	}
}

func TestFSMPublishesIndexOfRaftOnlyBatch(t *testing.T) {
	f, sm := newTestFSM()
	f.ApplyBatch([]*raft.Log{cmdLog(1, "a=1")})
	f.ApplyBatch([]*raft.Log{{Index: 2, Term: 2, Type: raft.LogNoop}, {Index: 3, Term: 2, Type: raft.LogConfiguration}})
	if sm.AppliedIndex() != 1 {
		t.Fatalf("state machine applied %d, want 1 (no commands since)", sm.AppliedIndex())
	}
	if got, _ := f.applied.load(); got != 3 {
		t.Fatalf("published applied index = %d, want 3: a WaitApplied on a no-op index must return", got)
	}
}

func TestFSMPanicsOnUndecodableEntry(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated envelope", []byte{1}},
		{"unknown non-skippable type", []byte{0x07, 1, 'x'}},
		{"unsupported version", []byte{1, 9, 'x'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, sm := newTestFSM()
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("ApplyBatch did not panic")
				}
				if !strings.Contains(r.(string), "entry 7") {
					t.Fatalf("panic %q does not name the entry index", r)
				}
				if sm.AppliedIndex() != 0 {
					t.Fatalf("state machine applied %d before the bad entry was found", sm.AppliedIndex())
				}
			}()
			f.ApplyBatch([]*raft.Log{cmdLog(6, "a=1"), {Index: 7, Type: raft.LogCommand, Data: tc.data}})
		})
	}
}

// memSink is a raft.SnapshotSink over a buffer.
type memSink struct {
	bytes.Buffer
	closed, canceled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.canceled = true; return nil }

func TestFSMSnapshotIsAReference(t *testing.T) {
	f, sm := newTestFSM()
	f.ApplyBatch([]*raft.Log{cmdLog(1, "a=1"), cmdLog(2, "b=2")})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if !sink.closed || sink.canceled {
		t.Fatalf("sink closed=%v canceled=%v, want closed only", sink.closed, sink.canceled)
	}
	if sm.syncs != 1 {
		t.Fatalf("Persist synced the state machine %d times, want 1", sm.syncs)
	}
	applied, isRef, err := decodeRef(sink.Bytes())
	if err != nil || !isRef || applied != 2 {
		t.Fatalf("persisted %q: reference=%v applied=%d err=%v, want a reference to applied index 2", sink.Bytes(), isRef, applied, err)
	}
	// A reference is never restored as if it were data.
	g, _ := newTestFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); !errors.Is(err, errNotFullSnapshot) {
		t.Fatalf("Restore of a reference: %v, want errNotFullSnapshot", err)
	}
}

func TestFSMRestoreFullSnapshot(t *testing.T) {
	_, sm := newTestFSM()
	sm.ApplyBatch([]Command{{Index: 1, Data: []byte("a=1")}, {Index: 2, Data: []byte("b=2")}})
	full, err := sm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := full.Persist(&buf); err != nil {
		t.Fatal(err)
	}
	g, sm2 := newTestFSM()
	if err := g.Restore(io.NopCloser(&buf)); err != nil {
		t.Fatal(err)
	}
	if v, _ := sm2.get("b"); v != "2" || sm2.AppliedIndex() != 2 {
		t.Fatalf("restored b=%q applied=%d, want b=2 applied=2", v, sm2.AppliedIndex())
	}
	if got, _ := g.applied.load(); got != 2 {
		t.Fatalf("published applied index after restore = %d, want 2", got)
	}
}

func TestFSMSnapshotSyncFailureCancelsSink(t *testing.T) {
	f, sm := newTestFSM()
	sm.sync = func() error { return errors.New("disk full") }
	f.ApplyBatch([]*raft.Log{cmdLog(1, "a=1")})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Persist error = %v, want the state machine's", err)
	}
	if !sink.canceled || sink.closed {
		t.Fatalf("sink closed=%v canceled=%v, want canceled only", sink.closed, sink.canceled)
	}
}

func TestAppliedIndexWait(t *testing.T) {
	a := newAppliedIndex(5)
	stop := make(chan struct{})
	if err := a.wait(context.Background(), 5, stop); err != nil {
		t.Fatalf("wait for a reached index: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.wait(context.Background(), 8, stop) }()
	a.advance(7)
	a.advance(6) // never lowers
	if got, _ := a.load(); got != 7 {
		t.Fatalf("index = %d, want 7", got)
	}
	a.advance(8)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return after the index was reached")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.wait(ctx, 100, stop); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a canceled ctx = %v", err)
	}
	close(stop)
	if err := a.wait(context.Background(), 100, stop); !errors.Is(err, ErrShutdown) {
		t.Fatalf("wait after stop = %v, want ErrShutdown", err)
	}
}
