package replica

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// recordHandler keeps every record it is given.
type recordHandler struct {
	level   slog.Level
	records *[]slog.Record
}

func (h recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	*h.records = append(*h.records, r)
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func TestHCLoggerLevels(t *testing.T) {
	tests := []struct {
		name  string
		log   func(hclog.Logger)
		level slog.Level
	}{
		{"trace", func(l hclog.Logger) { l.Trace("m") }, levelTrace},
		{"debug", func(l hclog.Logger) { l.Debug("m") }, slog.LevelDebug},
		{"info", func(l hclog.Logger) { l.Info("m") }, slog.LevelInfo},
		{"warn", func(l hclog.Logger) { l.Warn("m") }, slog.LevelWarn},
		{"error", func(l hclog.Logger) { l.Error("m") }, slog.LevelError},
		{"Log with level", func(l hclog.Logger) { l.Log(hclog.Warn, "m") }, slog.LevelWarn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var recs []slog.Record
			tc.log(newHCLogger(slog.New(recordHandler{level: levelTrace, records: &recs}), "raft"))
			if len(recs) != 1 || recs[0].Level != tc.level {
				t.Fatalf("got %d records (first level %v), want one at %v", len(recs), firstLevel(recs), tc.level)
			}
		})
	}
}

func firstLevel(recs []slog.Record) any {
	if len(recs) == 0 {
		return "none"
	}
	return recs[0].Level
}

func TestHCLoggerFilteringAndAttrs(t *testing.T) {
	var recs []slog.Record
	l := newHCLogger(slog.New(recordHandler{level: slog.LevelInfo, records: &recs}), "raft")
	if l.IsDebug() || !l.IsInfo() {
		t.Fatalf("IsDebug=%v IsInfo=%v with an Info handler", l.IsDebug(), l.IsInfo())
	}
	l.Debug("dropped")
	child := l.Named("net").With("peer", "n2")
	child.Info("kept", "n", 3, "f", hclog.Fmt("%d%%", 50))
	l.SetLevel(hclog.Error)
	child.Warn("dropped by SetLevel")
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	attrs := map[string]string{}
	recs[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	want := map[string]string{"logger": "raft.net", "peer": "n2", "n": "3", "f": "50%"}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("attr %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
		}
	}
}

func TestHCLoggerStandardWriter(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: levelTrace})), "")
	l.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[WARN] careful")
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, `msg=careful`) {
		t.Fatalf("standard logger wrote %q, want a WARN record \"careful\"", out)
	}
}
