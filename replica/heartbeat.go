package replica

import (
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// heartbeat.go answers a leader's heartbeats without waiting for raft's
// main loop. clampTransport keeps raft's own heartbeat fast path off (see
// SetHeartbeatHandler), so heartbeats queue behind whatever the main loop
// is doing; storing a large entry (a 100,000-row COPY: megabytes, an
// fsync) kept it busy past the leader's lease (150 ms), no heartbeat was
// answered, and the leader stepped down on every such COPY.
//
// The answer given here changes nothing in raft: only when this node is a
// follower, in the heartbeat's term, of the heartbeat's sender — exactly
// the case in which raft's appendEntries answers success and changes no
// state but its last-contact time — is the success answered at once; a
// copy of the heartbeat then goes to the main loop as before (its answer
// there is discarded), so raft still notes the contact and keeps its
// election timer quiet. Any other heartbeat (a newer term, another leader,
// this node a candidate or a deposed leader) takes the main loop's path,
// where the term changes happen. The answer is as true as the main loop's
// would have been at the moment it was checked: this node had not moved to
// a newer term, so it had voted for no other leader there.

// heartbeatView is what the fast path reads of raft.
type heartbeatView struct {
	r    *raft.Raft
	id   raft.ServerID
	addr raft.ServerAddress
}

// heartbeats holds the view once raft exists (nil before: every heartbeat
// takes the main loop's path) and the copies on their way to the main loop.
type heartbeats struct {
	view atomic.Pointer[heartbeatView]
	// toLoop holds the latest heartbeat not yet handed to the main loop:
	// older ones carry nothing a newer one does not.
	toLoop chan raft.RPC
}

// isHeartbeat is NetworkTransport's own test for a heartbeat.
func isHeartbeat(req *raft.AppendEntriesRequest) bool {
	return req.Term != 0 && (len(req.Addr) > 0 || len(req.Leader) > 0) && req.PrevLogEntry == 0 &&
		req.PrevLogTerm == 0 && len(req.Entries) == 0 && req.LeaderCommitIndex == 0
}

// answer answers rpc, a heartbeat, when the fast path applies, queues its
// copy for the main loop, and reports whether it did.
func (h *heartbeats) answer(rpc raft.RPC, req *raft.AppendEntriesRequest) bool {
	v := h.view.Load()
	if v == nil || v.r.State() != raft.Follower || v.r.CurrentTerm() != req.Term {
		return false
	}
	_, leader := v.r.LeaderWithID()
	if leader == "" || string(leader) != string(req.ID) {
		return false
	}
	copyRPC := raft.RPC{Command: req, RespChan: make(chan raft.RPCResponse, 1)}
	select {
	case h.toLoop <- copyRPC:
	default:
		select { // replace the older copy waiting there
		case <-h.toLoop:
		default:
		}
		select {
		case h.toLoop <- copyRPC:
		default: // another heartbeat took the slot: it is as good
		}
	}
	rpc.Respond(&raft.AppendEntriesResponse{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(v.id), Addr: []byte(v.addr)},
		Term:      req.Term,
		LastLog:   v.r.LastIndex(),
		Success:   true,
	}, nil)
	return true
}
