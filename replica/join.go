package replica

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/hashicorp/raft"
)

// ErrJoinRefused means the cluster will not accept this node as it is (a
// different SQLite version or entry format, a clashing ID or address).
// Retrying cannot help; the error's text says why.
var ErrJoinRefused = errors.New("replica: join refused")

// refusedError is a permanent refusal on the leader, sent to the joiner
// with codeRefused.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

func refusef(format string, args ...any) error {
	return &refusedError{msg: fmt.Sprintf(format, args...)}
}

// JoinRequest is what a node sends to join a cluster.
type JoinRequest struct {
	NodeID   string `codec:"node_id"`
	RaftAddr string `codec:"raft_addr"` // the address peers dial (Status().Addr)
	// Voter asks for a voting member; false makes an asynchronous read
	// replica that never counts towards the quorum (raft's nonvoter).
	Voter bool `codec:"voter"`
	// Meta is what the node advertises (e.g. "sqlite_version",
	// "entry_format"); the leader compares the keys in its MustMatch.
	Meta map[string]string `codec:"meta,omitempty"`
	// FreshData says the node has no Raft state: if its ID is already a
	// member, that member lost its data and is removed and added anew.
	FreshData bool `codec:"fresh_data"`
}

// JoinRequest returns the request this node sends to join: its ID,
// advertised address, Config.Meta, and whether it started without Raft
// state.
func (n *Node) JoinRequest(voter bool) JoinRequest {
	return JoinRequest{
		NodeID: n.cfg.NodeID, RaftAddr: n.addr, Voter: voter,
		Meta: n.cfg.Meta, FreshData: n.fresh.Load(),
	}
}

// Join asks the cluster that peers (Raft addresses) belong to to add the
// node req describes. It tries each peer in turn; a peer that is not the
// leader names the leader, and Join follows. It retries with backoff until
// it succeeds, the leader refuses (ErrJoinRefused, not retried), or ctx
// ends. Join is idempotent: the leader applies DESIGN §9's rules
// (handleJoin). The joining node must be running (Open) so the leader can
// replicate to it. tc is node TLS's dialing side (nil for plain TCP).
func Join(ctx context.Context, tc *tls.Config, peers []string, req JoinRequest, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(peers) == 0 {
		return errors.New("join: no peers to ask")
	}
	if req.NodeID == "" || req.RaftAddr == "" {
		return errors.New("join: request needs NodeID and RaftAddr")
	}
	rpc := rpcRequest{Op: opJoin, Join: &req}
	var lastErr error
	for attempt := 0; ; attempt++ {
		for _, peer := range peers {
			if peer == req.RaftAddr {
				continue // asking ourselves cannot help
			}
			resp, err := callLeader(ctx, tc, peer, rpc)
			switch {
			case err == nil && resp.Code == codeOK:
				logger.Info("joined cluster", "via", peer, "leader", resp.LeaderID, "voter", req.Voter)
				return nil
			case err == nil && resp.Code == codeRefused:
				return fmt.Errorf("%w: %s", ErrJoinRefused, resp.Error)
			case err == nil:
				err = fmt.Errorf("%s answered %s: %s", peer, resp.Code, resp.Error)
			}
			lastErr = err
			logger.Warn("join attempt failed; will retry", "peer", peer, logKeyErr, err)
		}
		if lastErr == nil {
			return errors.New("join: the only peer given is this node itself")
		}
		if err := sleepCtx(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("join: %w (last error: %v)", err, lastErr)
		}
	}
}

// JoinCluster makes this node a member of the cluster peers belong to, as
// a voter or a nonvoter, and returns once the leader has added it (or
// found it present). A node that kept its Raft state and whose own
// configuration already lists it, at its address and with that suffrage,
// does not ask the leader again (so a whole cluster can restart at once: no
// leader is needed to start); it only checks its Meta against the first
// peer that answers, and is refused (ErrJoinRefused) on a mismatch. Any
// other node calls Join.
func (n *Node) JoinCluster(ctx context.Context, peers []string, voter bool) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	// A fresh node may already appear in its own configuration (the leader
	// replicated to its old address before it asked), yet it must be
	// re-added: only a node with its Raft state may skip the join.
	if !n.fresh.Load() && n.isMemberAs(voter) {
		n.log.Info("already a member of the cluster; not joining again", "voter", voter)
		return n.checkPeersMeta(ctx, peers)
	}
	if err := Join(ctx, n.clientTLS, peers, n.JoinRequest(voter), n.log); err != nil {
		return err
	}
	// From now on this node's Raft state is the member's: a later join
	// from this process must not have the leader re-add it.
	n.fresh.Store(false)
	return nil
}

// isMemberAs reports whether this node's latest configuration lists it at
// its address with the given suffrage.
func (n *Node) isMemberAs(voter bool) bool {
	servers, err := n.servers()
	if err != nil {
		return false
	}
	for _, s := range servers {
		if string(s.ID) == n.cfg.NodeID {
			return string(s.Address) == n.addr && (s.Suffrage == raft.Voter) == voter
		}
	}
	return false
}

// checkPeersMeta compares Meta with the first peer (or other member) that
// answers a status request. None answering is not an error: a restarting
// cluster may not be up yet, and the node already belongs to it.
func (n *Node) checkPeersMeta(ctx context.Context, peers []string) error {
	candidates := slices.Clone(peers)
	if servers, err := n.servers(); err == nil {
		for _, s := range servers {
			if string(s.ID) != n.cfg.NodeID {
				candidates = append(candidates, string(s.Address))
			}
		}
	}
	for _, addr := range candidates {
		if addr == n.addr {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, rpcDialTimeout)
		resp, err := call(cctx, n.clientTLS, addr, rpcRequest{Op: opStatus})
		cancel()
		if err != nil || resp.Status == nil {
			continue
		}
		if diff := metaMismatch(n.cfg.MustMatch, resp.Status.Meta, n.cfg.Meta); diff != "" {
			return fmt.Errorf("%w: %s differs from member %s: %s", ErrJoinRefused, n.cfg.NodeID, resp.Status.NodeID, diff)
		}
		return nil
	}
	n.log.Warn("no peer answered; could not compare build metadata with the cluster")
	return nil
}

// metaMismatch lists the keys in keys whose values differ between the
// cluster's and the joining node's metadata ("" when all match).
func metaMismatch(keys []string, cluster, joiner map[string]string) string {
	var diffs []string
	for _, k := range keys {
		if cluster[k] != joiner[k] {
			diffs = append(diffs, fmt.Sprintf("%s: joining node has %q, cluster has %q", k, joiner[k], cluster[k]))
		}
	}
	return strings.Join(diffs, "; ")
}

// handleJoin is the leader's side of a join: it checks the joiner's Meta,
// then applies DESIGN §9's rules through addMember.
func (n *Node) handleJoin(ctx context.Context, req JoinRequest, remote string) error {
	if req.NodeID == "" || req.RaftAddr == "" {
		return refusef("join request from %s lacks a node id or address", remote)
	}
	if err := checkAdvertisable(req.RaftAddr); err != nil {
		return refusef("join request from %s: address: %v", req.NodeID, err)
	}
	if diff := metaMismatch(n.cfg.MustMatch, n.cfg.Meta, req.Meta); diff != "" {
		n.log.Warn("refusing join: build differs", "member", req.NodeID, "addr", req.RaftAddr, "diff", diff)
		return refusef("node %s cannot join: %s (every member must run the same build)", req.NodeID, diff)
	}
	return n.addMember(ctx, req.NodeID, req.RaftAddr, req.Voter, req.FreshData)
}
