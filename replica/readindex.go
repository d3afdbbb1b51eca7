package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// ReadIndexRPCByte is the first byte of read-index connections on the
// shared Raft port: a follower asks the leader for the index a
// linearizable read must wait for. The Node registers it in Open.
const ReadIndexRPCByte byte = 'I'

// readIndexTimeout bounds one ReadIndex when the caller's context has no
// earlier deadline: a read must not hang on an election that never ends.
const readIndexTimeout = 10 * time.Second

// readIndexRetries bounds how often the leader starts over because its term
// moved while it confirmed its leadership.
const readIndexRetries = 3

// readIndexRequest asks for a read index; it carries nothing yet, but is a
// frame so the protocol can grow.
type readIndexRequest struct{}

// readIndexResponse answers one readIndexRequest.
type readIndexResponse struct {
	Code       string `codec:"code"` // codeOK, codeNotLeader or codeError
	Index      uint64 `codec:"index,omitempty"`
	LeaderAddr string `codec:"leader_addr,omitempty"`
	Error      string `codec:"error,omitempty"`
}

// ReadIndex returns an index that a linearizable read must wait for this
// node to apply: every write acknowledged before the call is at or below
// it. The leader records its commit index and then confirms with a quorum
// that it still leads (VerifyLeader; no lease is trusted). A leader whose
// readiness barrier has not applied yet waits for it first
// (WaitLeaderReady), because until then its commit index may miss entries
// its predecessor committed.
// Elsewhere the request goes to the leader over the Raft port, following
// not-leader redirects; ErrNotLeader (wrapped) means no leader could answer.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.isShutdown() {
		return 0, ErrShutdown
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readIndexTimeout)
		defer cancel()
	}
	if n.IsLeader() {
		return n.leaderReadIndex(ctx)
	}
	return n.remoteReadIndex(ctx)
}

// leaderReadIndex is ReadIndex on the node that believes it leads.
func (n *Node) leaderReadIndex(ctx context.Context) (uint64, error) {
	for range readIndexRetries {
		term, err := n.waitLeaderReady(ctx)
		if err != nil {
			return 0, fmt.Errorf("read index: %w", err)
		}
		index := n.CommitIndex()
		if err := n.VerifyLeader(ctx); err != nil {
			return 0, fmt.Errorf("read index: %w", err)
		}
		if n.Term() == term {
			return n.dataIndex(index), nil
		}
	}
	return 0, fmt.Errorf("read index: %w: term kept changing", ErrNotLeader)
}

// remoteReadIndex asks the leader, following redirects.
func (n *Node) remoteReadIndex(ctx context.Context) (uint64, error) {
	if err := n.WaitLeader(ctx); err != nil {
		return 0, fmt.Errorf("read index: %w: %w", ErrNotLeader, err)
	}
	_, addr := n.Leader()
	for range maxRedirects + 1 {
		if addr == "" {
			return 0, fmt.Errorf("read index: %w: no leader known", ErrNotLeader)
		}
		if addr == n.addr {
			// This node became the leader since ReadIndex looked.
			return n.leaderReadIndex(ctx)
		}
		resp, err := n.callReadIndex(ctx, addr)
		if err != nil {
			return 0, fmt.Errorf("read index from %s: %w", addr, err)
		}
		switch resp.Code {
		case codeOK:
			return resp.Index, nil
		case codeNotLeader:
			if resp.LeaderAddr == addr {
				return 0, fmt.Errorf("read index: %w: %s names itself but does not lead", ErrNotLeader, addr)
			}
			addr = resp.LeaderAddr
			continue
		}
		return 0, fmt.Errorf("read index from %s: %s", addr, resp.Error)
	}
	return 0, fmt.Errorf("read index: %w: too many redirects", ErrNotLeader)
}

// readIndexPoolSize bounds the idle read-index connections a follower
// keeps to its leader.
const readIndexPoolSize = 8

// callReadIndex sends one request to addr and reads the answer, bounded by
// ctx, on a pooled connection; a failure on a pooled connection (which the
// leader may have closed as idle) is retried once on a new one.
func (n *Node) callReadIndex(ctx context.Context, addr string) (readIndexResponse, error) {
	resp, reused, err := n.callReadIndexOn(ctx, addr, true)
	if err != nil && reused && ctx.Err() == nil {
		resp, _, err = n.callReadIndexOn(ctx, addr, false)
	}
	return resp, err
}

// callReadIndexOn runs one exchange on a pooled connection (if pooled and
// one is idle) or a new one; the connection goes back to the pool after a
// complete exchange and is closed otherwise (also when ctx ends).
func (n *Node) callReadIndexOn(ctx context.Context, addr string, pooled bool) (resp readIndexResponse, reused bool, err error) {
	var c net.Conn
	if pooled {
		c, reused, err = n.riPool.get(ctx, addr)
	} else {
		dctx, cancel := context.WithTimeout(ctx, rpcDialTimeout)
		c, err = dialPort(dctx, addr, ReadIndexRPCByte, n.clientTLS)
		cancel()
	}
	if err != nil {
		return readIndexResponse{}, false, err
	}
	ok := false
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		if stop() && ok {
			_ = c.SetDeadline(time.Time{})
			n.riPool.put(addr, c)
			return
		}
		c.Close()
	}()
	if dl, has := ctx.Deadline(); has {
		_ = c.SetDeadline(dl)
	}
	if err := writeFrame(c, readIndexRequest{}); err != nil {
		return readIndexResponse{}, reused, contextOr(ctx, fmt.Errorf("send: %w", err))
	}
	if err := readFrame(c, &resp); err != nil {
		return readIndexResponse{}, reused, contextOr(ctx, fmt.Errorf("read answer: %w", err))
	}
	ok = true
	return resp, reused, nil
}

// contextOr prefers ctx's error, which says why a connection broke.
func contextOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// serveReadIndex runs one read-index connection until the peer closes it,
// sends something malformed, goes idle, or the node shuts down (the mux
// closes the connection).
func (n *Node) serveReadIndex(c net.Conn) {
	for {
		_ = c.SetReadDeadline(time.Now().Add(rpcIdleTimeout))
		var req readIndexRequest
		if err := readFrame(c, &req); err != nil {
			if !errors.Is(err, io.EOF) && !n.isShutdown() {
				n.log.Debug("closing read-index connection", logKeyRemote, c.RemoteAddr().String(), logKeyErr, err)
			}
			return
		}
		resp := n.answerReadIndex()
		_ = c.SetWriteDeadline(time.Now().Add(rpcDialTimeout))
		if err := writeFrame(c, resp); err != nil {
			return
		}
	}
}

// answerReadIndex serves one request, bounded by rpcOpTimeout.
func (n *Node) answerReadIndex() readIndexResponse {
	if !n.IsLeader() {
		_, addr := n.Leader()
		return readIndexResponse{Code: codeNotLeader, LeaderAddr: addr}
	}
	ctx, cancel := context.WithTimeout(context.Background(), rpcOpTimeout)
	defer cancel()
	index, err := n.leaderReadIndex(ctx)
	switch {
	case err == nil:
		return readIndexResponse{Code: codeOK, Index: index}
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrLeadershipLost):
		_, addr := n.Leader()
		return readIndexResponse{Code: codeNotLeader, LeaderAddr: addr}
	}
	return readIndexResponse{Code: codeError, Error: err.Error()}
}

// CommittedDataIndex returns the highest index this node knows to be
// committed, lowered past raft's own no-op and barrier entries: those never
// reach the state machine, so WaitApplied on the raw commit index could wait
// for the next write. WaitApplied(CommittedDataIndex()) returns once this
// node has applied everything it knows to be committed.
func (n *Node) CommittedDataIndex() uint64 { return n.dataIndex(n.CommitIndex()) }

// maxDataIndexScan bounds how many trailing no-op and barrier entries
// dataIndex looks past (one no-op per term and one barrier per leadership
// or read-index term are normal; thousands are not).
const maxDataIndexScan = 4096

// dataIndex returns the last index at or below index that the state
// machine sees (a command or a configuration change), which is what the
// applied index reaches once index is applied. Entries at or below the
// applied index need no look: WaitApplied returns for them at once. An
// entry missing from the log (compacted) ends the scan there.
func (n *Node) dataIndex(index uint64) uint64 {
	applied := n.AppliedIndex()
	for range maxDataIndexScan {
		if index <= applied {
			return index
		}
		var l raft.Log
		if err := n.store.GetLog(index, &l); err != nil {
			return index
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return index
		}
		index--
	}
	return index
}

// LastContact returns when this node last heard from the leader (zero if
// never); a leader reports the present. Followers use it to bound how stale
// a local read may be.
func (n *Node) LastContact() time.Time {
	if n.IsLeader() {
		return time.Now()
	}
	return n.raft.LastContact()
}
