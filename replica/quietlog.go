package replica

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// quietlog.go: when a whole cluster stops together (pgraft dev's Ctrl-C),
// the nodes that stop last see the others go away: failed appends,
// heartbeats and votes, a barrier that cannot commit, handshakes cut
// short. Those are expected then, and Node.ExpectPeersGone demotes them to
// debug; at any other time they mean a peer needs attention and stay
// warnings and errors.

// peerGoneMessages start the records that a peer going away causes.
var peerGoneMessages = []string{
	"failed to appendEntries to", "failed to heartbeat to", "failed to contact",
	"failed to make requestVote RPC", "leader barrier failed", "refused a connection to the Raft port",
	"leadership transfer before shutdown failed", "closing membership connection",
	"failed to pipeline appendEntries", "aborting pipeline replication",
}

// quietHandler demotes peerGoneMessages to debug once quiet is set.
type quietHandler struct {
	next  slog.Handler
	quiet *atomic.Bool
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.quiet.Load() && r.Level >= slog.LevelWarn && peerGoneMessage(r.Message) {
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{next: h.next.WithAttrs(as), quiet: h.quiet}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{next: h.next.WithGroup(name), quiet: h.quiet}
}

func peerGoneMessage(msg string) bool {
	for _, p := range peerGoneMessages {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// ExpectPeersGone tells the node that the whole cluster is stopping: from
// now on, records of peers going away are logged at debug.
func (n *Node) ExpectPeersGone() { n.peersGone.Store(true) }
