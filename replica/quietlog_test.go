package replica

import (
	"log/slog"
	"sync/atomic"
	"testing"
)

// TestQuietHandler: once peers are expected to go away, their records drop
// to debug; other warnings, and the same records before, stay as they are.
func TestQuietHandler(t *testing.T) {
	var recs []slog.Record
	quiet := new(atomic.Bool)
	log := slog.New(quietHandler{next: recordHandler{level: slog.LevelDebug, records: &recs}, quiet: quiet})
	log.Error("failed to appendEntries to", "peer", "n2")
	quiet.Store(true)
	log.Error("failed to appendEntries to", "peer", "n2")
	log.Warn("leader barrier failed; retrying")
	log.Warn("disk is full")
	want := []slog.Level{slog.LevelError, slog.LevelDebug, slog.LevelDebug, slog.LevelWarn}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if r.Level != want[i] {
			t.Errorf("record %d (%s) at %v, want %v", i, r.Message, r.Level, want[i])
		}
	}
}
