package replica

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// levelTrace is slog's place for hclog's Trace level (below Debug).
const levelTrace = slog.LevelDebug - 4

// hcLogger forwards raft's hclog output to a slog.Logger with levels intact,
// so raft logs through the node's logger and never to os.Stderr.
type hcLogger struct {
	log     *slog.Logger
	name    string
	implied []any
	floor   *atomic.Int32 // hclog.Level below which records are dropped; shared with children
}

var _ hclog.Logger = (*hcLogger)(nil)

// newHCLogger returns an hclog.Logger that writes to l. name becomes the
// record's "logger" attribute.
func newHCLogger(l *slog.Logger, name string) *hcLogger {
	floor := new(atomic.Int32)
	floor.Store(int32(hclog.Trace))
	return &hcLogger{log: l, name: name, floor: floor}
}

// slogLevel maps an hclog level to slog's.
func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default: // Info and NoLevel
		return slog.LevelInfo
	}
}

// enabled reports whether records at level reach the slog handler.
func (h *hcLogger) enabled(level hclog.Level) bool {
	if level == hclog.Off || level < hclog.Level(h.floor.Load()) && level != hclog.NoLevel {
		return false
	}
	return h.log.Enabled(context.Background(), slogLevel(level))
}

// routine gives the level of raft's Warn and Error records that are part of
// normal operation: an election (Info), and a follower catching up or
// votes turned down while a leader exists (Debug). Warn and Error then mean
// something needs attention (a peer unreachable, a quorum lost, a disk
// error); a clean start prints none.
var routine = map[string]hclog.Level{
	"heartbeat timeout reached, starting election":               hclog.Info,
	"Election timeout reached, restarting election":              hclog.Info,
	"new leader elected, stepping down":                          hclog.Info,
	"peer has newer term, stopping replication":                  hclog.Info,
	"failed to get previous log":                                 hclog.Debug,
	"previous log term mis-match":                                hclog.Debug,
	"appendEntries rejected, sending older logs":                 hclog.Debug,
	"clearing log suffix":                                        hclog.Debug,
	"duplicate requestVote from":                                 hclog.Debug,
	"rejecting vote request since we have a leader":              hclog.Debug,
	"rejecting pre-vote request since we have a leader":          hclog.Debug,
	"rejecting vote request since our last term is greater":      hclog.Debug,
	"rejecting pre-vote request since our last term is greater":  hclog.Debug,
	"rejecting vote request since our last index is greater":     hclog.Debug,
	"rejecting pre-vote request since our last index is greater": hclog.Debug,
}

// routineLevel is the level msg is logged at: routine's for routine raft
// records, Debug for a transport connection that ends because its peer or
// this node closed it, else level.
func routineLevel(level hclog.Level, msg string, args []any) hclog.Level {
	if level != hclog.Warn && level != hclog.Error {
		return level
	}
	if l, ok := routine[msg]; ok {
		return l
	}
	if msg == "failed to make requestVote RPC" && peerGone(args) {
		// A candidate asking a peer that just stopped (a leader shut
		// down, the election that follows): the election logs at info.
		return hclog.Info
	}
	if msg == "failed to decode incoming command" {
		for _, a := range args {
			if err, ok := a.(error); ok {
				text := err.Error()
				if strings.Contains(text, "use of closed network connection") || text == "transport shutdown" || text == "EOF" {
					return hclog.Debug
				}
			}
		}
	}
	return level
}

// peerGone reports whether args hold the error of a connection its peer
// closed or refused.
func peerGone(args []any) bool {
	for _, a := range args {
		if err, ok := a.(error); ok {
			text := err.Error()
			if text == "EOF" || strings.Contains(text, "connection refused") ||
				strings.Contains(text, "use of closed network connection") || strings.Contains(text, "connection reset") {
				return true
			}
		}
	}
	return false
}

// Log emits msg with hclog's alternating key/value args.
func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	level = routineLevel(level, msg, args)
	if !h.enabled(level) {
		return
	}
	attrs := make([]any, 0, 2+len(h.implied)+len(args))
	if h.name != "" {
		attrs = append(attrs, "logger", h.name)
	}
	attrs = append(attrs, h.implied...)
	attrs = append(attrs, convertArgs(args)...)
	h.log.Log(context.Background(), slogLevel(level), msg, attrs...)
}

// convertArgs renders hclog-specific values (hclog.Fmt) as strings; slog
// handles everything else itself.
func convertArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			if s, ok := f[0].(string); ok {
				a = fmt.Sprintf(s, f[1:]...)
			}
		}
		out[i] = a
	}
	return out
}

// Trace logs at hclog's Trace level.
func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }

// Debug logs at Debug.
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }

// Info logs at Info.
func (h *hcLogger) Info(msg string, args ...any) { h.Log(hclog.Info, msg, args...) }

// Warn logs at Warn.
func (h *hcLogger) Warn(msg string, args ...any) { h.Log(hclog.Warn, msg, args...) }

// Error logs at Error.
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

// IsTrace reports whether Trace records are emitted.
func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }

// IsDebug reports whether Debug records are emitted.
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }

// IsInfo reports whether Info records are emitted.
func (h *hcLogger) IsInfo() bool { return h.enabled(hclog.Info) }

// IsWarn reports whether Warn records are emitted.
func (h *hcLogger) IsWarn() bool { return h.enabled(hclog.Warn) }

// IsError reports whether Error records are emitted.
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

// ImpliedArgs returns the key/value pairs added by With.
func (h *hcLogger) ImpliedArgs() []any { return h.implied }

// With returns a child that adds args to every record.
func (h *hcLogger) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), convertArgs(args)...)
	return &c
}

// Name returns the logger's name.
func (h *hcLogger) Name() string { return h.name }

// Named returns a child whose name is appended to this one's, hclog style.
func (h *hcLogger) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return h.ResetNamed(name)
}

// ResetNamed returns a child with exactly this name.
func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel drops records below level, for this logger and its children.
// The slog handler's own level still applies.
func (h *hcLogger) SetLevel(level hclog.Level) { h.floor.Store(int32(level)) }

// GetLevel returns the level set with SetLevel.
func (h *hcLogger) GetLevel() hclog.Level { return hclog.Level(h.floor.Load()) }

// StandardLogger returns a *log.Logger writing through this logger.
func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each line it receives.
func (h *hcLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	if opts == nil {
		opts = &hclog.StandardLoggerOptions{}
	}
	return &stdWriter{h: h, opts: *opts}
}

// stdWriter adapts line-oriented log output (the standard library's log
// package) to hcLogger.
type stdWriter struct {
	h    *hcLogger
	opts hclog.StandardLoggerOptions
}

// levelPrefixes are the prefixes hclog's own adapter recognises.
var levelPrefixes = []struct {
	prefix string
	level  hclog.Level
}{
	{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error}, {"[ERR]", hclog.Error},
}

func (w *stdWriter) Write(p []byte) (int, error) {
	msg := string(bytes.TrimRight(p, " \t\n"))
	level := hclog.Info
	if w.opts.ForceLevel != hclog.NoLevel || w.opts.InferLevels {
		for _, lp := range levelPrefixes {
			if strings.HasPrefix(msg, lp.prefix) {
				msg, level = strings.TrimSpace(msg[len(lp.prefix):]), lp.level
				break
			}
		}
	}
	if w.opts.ForceLevel != hclog.NoLevel {
		level = w.opts.ForceLevel
	}
	w.h.Log(level, msg)
	return len(p), nil
}
