package replica

import (
	"bytes"
	"context"
	"errors"
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

// TestHCLoggerRoutineRaftRecords: raft's Warn and Error records that are
// part of normal operation come out at Info (an election) or Debug (a
// follower catching up, a transport connection closed), so Warn and Error
// mean something needs attention; others keep their level.
func TestHCLoggerRoutineRaftRecords(t *testing.T) {
	tests := []struct {
		level hclog.Level
		msg   string
		args  []any
		want  slog.Level
	}{
		{hclog.Warn, "heartbeat timeout reached, starting election", nil, slog.LevelInfo},
		{hclog.Warn, "failed to get previous log", []any{"previous-index", 9}, slog.LevelDebug},
		{hclog.Warn, "appendEntries rejected, sending older logs", nil, slog.LevelDebug},
		{hclog.Warn, "rejecting pre-vote request since we have a leader", nil, slog.LevelDebug},
		{hclog.Error, "failed to decode incoming command", []any{"error", errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")}, slog.LevelDebug},
		{hclog.Error, "failed to decode incoming command", []any{"error", errors.New("unknown rpc type 9")}, slog.LevelError},
		{hclog.Error, "failed to make requestVote RPC", []any{"error", errors.New("EOF")}, slog.LevelInfo},
		{hclog.Error, "failed to make requestVote RPC", []any{"error", errors.New("tls: bad certificate")}, slog.LevelError},
		{hclog.Warn, "failed to contact quorum of nodes, stepping down", nil, slog.LevelWarn},
		{hclog.Error, "failed to appendEntries to", []any{"error", errors.New("dial: connection refused")}, slog.LevelError},
		{hclog.Info, "entering follower state", nil, slog.LevelInfo},
	}
	for _, tc := range tests {
		var recs []slog.Record
		newHCLogger(slog.New(recordHandler{level: levelTrace, records: &recs}), "raft").Log(tc.level, tc.msg, tc.args...)
		if len(recs) != 1 || recs[0].Level != tc.want {
			t.Errorf("%s %q: got %v, want %v", tc.level, tc.msg, firstLevel(recs), tc.want)
		}
	}
}
