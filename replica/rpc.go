package replica

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// MembershipRPCByte is the first byte of membership connections on the
// shared Raft port (join, remove, member status). The Node registers it in
// Open; HandleRPC refuses it to anyone else.
const MembershipRPCByte byte = 'M'

// Limits of the membership and read-index RPCs. A frame (frame.go) longer
// than maxFrameSize, or malformed, closes the connection that sent it
// (DESIGN I7).
const (
	maxFrameSize   = 64 << 10
	rpcIdleTimeout = 60 * time.Second // a connection with no request for this long is closed
	rpcOpTimeout   = 30 * time.Second // bounds one request's work on the serving node
	rpcDialTimeout = 5 * time.Second
)

// Operations and answer codes of the membership RPC.
const (
	opJoin   = "join"
	opRemove = "remove"
	opStatus = "status"

	codeOK        = "ok"
	codeNotLeader = "not_leader" // LeaderAddr says where to go ("" when unknown)
	codeRefused   = "refused"    // permanent: retrying cannot help
	codeError     = "error"      // transient or unexpected: retry may help
)

// rpcRequest is one membership request.
type rpcRequest struct {
	Op     string       `codec:"op"`
	Join   *JoinRequest `codec:"join,omitempty"`
	NodeID string       `codec:"node_id,omitempty"` // remove
}

// rpcResponse answers one rpcRequest.
type rpcResponse struct {
	Code       string        `codec:"code"`
	Error      string        `codec:"error,omitempty"`
	LeaderID   string        `codec:"leader_id,omitempty"`
	LeaderAddr string        `codec:"leader_addr,omitempty"`
	Status     *MemberStatus `codec:"status,omitempty"`
}

// writeFrame and readFrame exchange one frame of the membership or
// read-index RPC (frame.go), at most maxFrameSize bytes.
func writeFrame(w io.Writer, v any) error { return WriteFrame(w, v, maxFrameSize) }
func readFrame(r io.Reader, v any) error  { return ReadFrame(r, v, maxFrameSize) }

// serveMembership runs one membership connection: requests in, answers
// out, in order, until the peer closes it, sends something malformed, goes
// idle, or the node shuts down (the mux closes the connection).
func (n *Node) serveMembership(c net.Conn) {
	remote := c.RemoteAddr().String()
	for {
		_ = c.SetReadDeadline(time.Now().Add(rpcIdleTimeout))
		var req rpcRequest
		if err := readFrame(c, &req); err != nil {
			if !errors.Is(err, io.EOF) && !n.isShutdown() {
				n.log.Warn("closing membership connection", logKeyRemote, remote, logKeyErr, err)
			}
			return
		}
		resp := n.dispatch(&req, remote)
		_ = c.SetWriteDeadline(time.Now().Add(rpcDialTimeout))
		if err := writeFrame(c, resp); err != nil {
			return
		}
	}
}

// dispatch serves one request. Its work is bounded by rpcOpTimeout and
// ends at shutdown (await watches n.stopped).
func (n *Node) dispatch(req *rpcRequest, remote string) rpcResponse {
	ctx, cancel := context.WithTimeout(context.Background(), rpcOpTimeout)
	defer cancel()
	switch {
	case req.Op == opStatus:
		st := n.memberStatus()
		return rpcResponse{Code: codeOK, Status: &st}
	case req.Op == opJoin && req.Join != nil:
		return n.leaderOnly(func() error { return n.handleJoin(ctx, *req.Join, remote) })
	case req.Op == opRemove && req.NodeID != "":
		return n.leaderOnly(func() error { return n.RemoveServer(ctx, req.NodeID) })
	}
	return rpcResponse{Code: codeRefused, Error: fmt.Sprintf("unknown or incomplete membership request %q", req.Op)}
}

// leaderOnly runs fn on the leader, or answers with where the leader is.
func (n *Node) leaderOnly(fn func() error) rpcResponse {
	leaderID, leaderAddr := n.Leader()
	if !n.IsLeader() {
		return rpcResponse{Code: codeNotLeader, LeaderID: leaderID, LeaderAddr: leaderAddr}
	}
	err := fn()
	var refused *refusedError
	switch {
	case err == nil:
		return rpcResponse{Code: codeOK}
	case errors.As(err, &refused):
		return rpcResponse{Code: codeRefused, Error: err.Error()}
	case errors.Is(err, ErrNotLeader):
		leaderID, leaderAddr = n.Leader()
		return rpcResponse{Code: codeNotLeader, LeaderID: leaderID, LeaderAddr: leaderAddr}
	}
	return rpcResponse{Code: codeError, Error: err.Error()}
}

// call sends one request to addr's membership handler and reads the answer.
// It waits no longer than the serving node's own bound on the work, so a
// peer that vanishes mid-request cannot hold the caller.
func call(ctx context.Context, tc *tls.Config, addr string, req rpcRequest) (rpcResponse, error) {
	ctx, cancelCall := context.WithTimeout(ctx, rpcOpTimeout+rpcDialTimeout)
	defer cancelCall()
	dctx, cancel := context.WithTimeout(ctx, rpcDialTimeout)
	defer cancel()
	c, err := dialPort(dctx, addr, MembershipRPCByte, tc)
	if err != nil {
		return rpcResponse{}, err
	}
	defer c.Close()
	// Closing the connection when ctx ends unblocks the read below.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	if err := writeFrame(c, req); err != nil {
		return rpcResponse{}, fmt.Errorf("send %s request to %s: %w", req.Op, addr, err)
	}
	var resp rpcResponse
	if err := readFrame(c, &resp); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return rpcResponse{}, fmt.Errorf("read %s answer from %s: %w", req.Op, addr, err)
	}
	return resp, nil
}

// maxRedirects bounds how many "the leader is over there" answers one
// attempt follows, so two nodes with stale views cannot bounce forever.
const maxRedirects = 3

// callLeader sends req to addr and follows not-leader redirects. It
// returns the leader's answer, or an error and the last answer seen.
func callLeader(ctx context.Context, tc *tls.Config, addr string, req rpcRequest) (rpcResponse, error) {
	for range maxRedirects + 1 {
		resp, err := call(ctx, tc, addr, req)
		if err != nil {
			return resp, err
		}
		if resp.Code != codeNotLeader {
			return resp, nil
		}
		if resp.LeaderAddr == "" || resp.LeaderAddr == addr {
			return resp, fmt.Errorf("%s knows no leader", addr)
		}
		addr = resp.LeaderAddr
	}
	return rpcResponse{}, fmt.Errorf("too many leader redirects (last to %s)", addr)
}

// backoff returns the wait before retry attempt (0-based): 100ms doubling
// to 2s.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 5)
	return min(d, 2*time.Second)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
