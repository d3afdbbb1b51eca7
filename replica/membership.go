package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// servers returns the latest Raft configuration's servers.
func (n *Node) servers() ([]raft.Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, translateError(err, false)
	}
	return f.Configuration().Servers, nil
}

// hasOtherVoters reports whether a voter other than this node exists, that
// is, whether leadership could be handed over.
func (n *Node) hasOtherVoters() bool {
	servers, err := n.servers()
	if err != nil {
		return false
	}
	for _, s := range servers {
		if s.Suffrage == raft.Voter && string(s.ID) != n.cfg.NodeID {
			return true
		}
	}
	return false
}

// AddVoter adds a voting member, or updates one: see addMember. Leader
// only.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	return n.addMember(ctx, id, addr, true, false)
}

// AddNonvoter adds a nonvoting member (an asynchronous read replica that
// never counts towards the quorum), or updates one: see addMember. Leader
// only.
func (n *Node) AddNonvoter(ctx context.Context, id, addr string) error {
	return n.addMember(ctx, id, addr, false, false)
}

// addMember makes id a member at addr with the given suffrage, idempotently
// (DESIGN §9):
//   - present with the same address and suffrage, and not fresh: nothing to do;
//   - present with another address: raft's add updates the address in place;
//   - present with the other suffrage: promoted (AddVoter) or demoted;
//   - fresh (the node lost its Raft state) and present: removed, then added
//     anew, because a voter that forgot its log and votes is not the same
//     voter any more;
//   - another member holding addr: removed first (its node is gone: the
//     address now belongs to id).
//
// A request from the leader itself for what it already is succeeds; other
// clashes with this node itself are refused.
func (n *Node) addMember(ctx context.Context, id, addr string, voter, fresh bool) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	servers, err := n.servers()
	if err != nil {
		return fmt.Errorf("add member %s: %w", id, err)
	}
	var cur *raft.Server
	for i, s := range servers {
		sameID, sameAddr := string(s.ID) == id, string(s.Address) == addr
		if sameID && sameAddr && voter && !fresh && string(s.ID) == n.cfg.NodeID {
			// The joining node leads already, at the address it asks for:
			// it restarted, won an election before its join went through,
			// and the request came back to it through another member.
			return nil
		}
		if (sameID || sameAddr) && string(s.ID) == n.cfg.NodeID {
			return refusef("member %s at %s clashes with the leader itself (%s at %s)", id, addr, s.ID, s.Address)
		}
		if sameAddr && !sameID {
			n.log.Info("removing the member that held this address", "member", s.ID, "addr", s.Address, "new_member", id)
			if err := n.RemoveServer(ctx, string(s.ID)); err != nil {
				return fmt.Errorf("add member %s: %w", id, err)
			}
		}
		if sameID {
			cur = &servers[i]
		}
	}
	if cur != nil && fresh {
		n.log.Warn("member lost its raft state; removing it and adding it anew", "member", id, "addr", addr)
		if err := n.RemoveServer(ctx, id); err != nil {
			return fmt.Errorf("add member %s: %w", id, err)
		}
		cur = nil
	}
	isVoter := cur != nil && cur.Suffrage == raft.Voter
	if cur != nil && string(cur.Address) == addr && isVoter == voter {
		n.log.Info("member already present; nothing to change", "member", id, "addr", addr, "voter", voter)
		return nil
	}
	if cur != nil && string(cur.Address) != addr {
		n.log.Info("member's address changed; updating it", "member", id, "old_addr", cur.Address, "addr", addr)
	}
	return n.applyMember(ctx, id, addr, voter, isVoter)
}

// applyMember issues raft's change: AddVoter (adds, promotes or moves a
// voter), AddNonvoter (adds or moves), then DemoteVoter when a voter asked
// to become a nonvoter.
func (n *Node) applyMember(ctx context.Context, id, addr string, voter, wasVoter bool) error {
	sid, saddr, timeout := raft.ServerID(id), raft.ServerAddress(addr), n.enqueueTimeout(ctx)
	var f raft.IndexFuture
	if voter {
		f = n.raft.AddVoter(sid, saddr, 0, timeout)
	} else {
		f = n.raft.AddNonvoter(sid, saddr, 0, timeout)
	}
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("add member %s: %w", id, translateError(err, false))
	}
	if !voter && wasVoter {
		if err := n.await(ctx, n.raft.DemoteVoter(sid, 0, n.enqueueTimeout(ctx))); err != nil {
			return fmt.Errorf("demote member %s: %w", id, translateError(err, false))
		}
	}
	n.log.Info("member added", "member", id, "addr", addr, "voter", voter)
	return nil
}

// RemoveServer removes a member. Leader only; removing an absent member
// succeeds.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	servers, err := n.servers()
	if err != nil {
		return fmt.Errorf("remove server %s: %w", id, err)
	}
	found := false
	for _, s := range servers {
		found = found || string(s.ID) == id
	}
	if !found {
		return nil
	}
	f := n.raft.RemoveServer(raft.ServerID(id), 0, n.enqueueTimeout(ctx))
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("remove server %s: %w", id, translateError(err, false))
	}
	n.log.Info("removed server", "member", id)
	return nil
}

// RemoveMember removes a member from any node: the leader removes it,
// other nodes forward the request to the leader over the membership RPC.
// It retries while no leader is known, until ctx ends. Removing an absent
// member succeeds.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("remove member: empty node id")
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if n.isShutdown() {
			return ErrShutdown
		}
		err := n.removeOnce(ctx, id)
		var refused *refusedError
		if err == nil || errors.As(err, &refused) {
			return err
		}
		lastErr = err
		n.log.Debug("remove member attempt failed; will retry", "member", id, logKeyErr, err)
		if err := sleepCtx(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("remove member %s: %w (last error: %v)", id, err, lastErr)
		}
	}
}

// removeOnce removes id here if this node leads, or asks the leader.
func (n *Node) removeOnce(ctx context.Context, id string) error {
	if n.IsLeader() {
		err := n.RemoveServer(ctx, id)
		if err == nil || !errors.Is(err, ErrNotLeader) {
			return err
		}
	}
	_, addr := n.Leader()
	if addr == "" {
		return ErrNotLeader
	}
	resp, err := callLeader(ctx, n.clientTLS, addr, rpcRequest{Op: opRemove, NodeID: id})
	switch {
	case err != nil:
		return err
	case resp.Code == codeOK:
		return nil
	case resp.Code == codeRefused:
		return refusef("remove member %s: %s", id, resp.Error)
	}
	return fmt.Errorf("remove member %s: leader answered %s: %s", id, resp.Code, resp.Error)
}
