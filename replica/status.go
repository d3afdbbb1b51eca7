package replica

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Member is one server in the Raft configuration, as one node sees it.
type Member struct {
	ID       string `json:"node_id"`
	Addr     string `json:"raft_addr"`
	Voter    bool   `json:"voter"`
	Suffrage string `json:"suffrage"` // "Voter" or "Nonvoter" (raft's "Staging" is unused)
	Leader   bool   `json:"leader"`   // the node reporting knows this member as the leader

	// Heartbeat health, filled on the leader only, from raft's heartbeat
	// observations: raft does not expose a follower's match index or its
	// last contact while heartbeats succeed, only when they start failing.
	// Unreachable is true from the first failed heartbeat until one
	// succeeds again; LastContact is then the last successful contact
	// (zero if never).
	Unreachable bool      `json:"unreachable"`
	LastContact time.Time `json:"last_contact,omitzero"`

	// Filled by ClusterStatus only, from the member's own answer.
	Probed       bool   `json:"answered"`        // the member answered; the fields below are its own
	ProbeError   string `json:"error,omitempty"` // why it did not answer
	State        string `json:"role,omitempty"`
	Term         uint64 `json:"term,omitempty"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	// Lag is how many entries the member has yet to apply: the highest
	// commit index any probed member (the leader, normally) reported, minus
	// this member's applied index.
	Lag uint64 `json:"lag"`
}

// Status is a point-in-time view of the node, for /status and tests.
type Status struct {
	NodeID            string
	Addr              string // advertised Raft address
	State             string // "Leader", "Follower", "Candidate", "Shutdown"
	Term              uint64
	LeaderID          string
	LeaderAddr        string
	AppliedIndex      uint64
	CommitIndex       uint64
	LastIndex         uint64
	LastSnapshotIndex uint64
	// InflightBytes is the payload this node has proposed and not yet
	// applied, within Config.MaxInflightBytes (inflight.go).
	InflightBytes int64
	Members       []Member // latest configuration, possibly not yet committed
}

// MemberStatus is what a node says about itself over the membership RPC.
type MemberStatus struct {
	NodeID       string            `codec:"node_id"`
	Addr         string            `codec:"addr"`
	State        string            `codec:"state"`
	Term         uint64            `codec:"term"`
	LeaderID     string            `codec:"leader_id"`
	AppliedIndex uint64            `codec:"applied_index"`
	CommitIndex  uint64            `codec:"commit_index"`
	LastIndex    uint64            `codec:"last_index"`
	Meta         map[string]string `codec:"meta,omitempty"`
}

// Status returns the node's view of itself and the cluster. It only reads
// local state; ClusterStatus also asks every member.
func (n *Node) Status() Status {
	leaderID, leaderAddr := n.Leader()
	s := Status{
		NodeID:            n.cfg.NodeID,
		Addr:              n.addr,
		State:             n.State(),
		Term:              n.Term(),
		LeaderID:          leaderID,
		LeaderAddr:        leaderAddr,
		AppliedIndex:      n.AppliedIndex(),
		CommitIndex:       n.CommitIndex(),
		LastIndex:         n.LastIndex(),
		LastSnapshotIndex: n.lastSnapshotIndex(),
		InflightBytes:     n.inflight.bytes(),
	}
	servers, err := n.servers()
	if err != nil {
		return s // shut down: no configuration to report
	}
	failing := n.heartbeats.snapshot()
	for _, srv := range servers {
		m := Member{
			ID: string(srv.ID), Addr: string(srv.Address), Voter: srv.Suffrage == raft.Voter,
			Suffrage: srv.Suffrage.String(), Leader: string(srv.ID) == leaderID,
		}
		if last, ok := failing[srv.ID]; ok && s.State == raft.Leader.String() {
			m.Unreachable, m.LastContact = true, last
		}
		s.Members = append(s.Members, m)
	}
	return s
}

// memberStatus is this node's answer to a status request.
func (n *Node) memberStatus() MemberStatus {
	leaderID, _ := n.Leader()
	return MemberStatus{
		NodeID: n.cfg.NodeID, Addr: n.addr, State: n.State(), Term: n.Term(), LeaderID: leaderID,
		AppliedIndex: n.AppliedIndex(), CommitIndex: n.CommitIndex(), LastIndex: n.LastIndex(),
		Meta: n.cfg.Meta,
	}
}

// memberProbeTimeout bounds how long ClusterStatus waits for each member.
const memberProbeTimeout = 2 * time.Second

// ClusterStatus is Status plus every member's own report, asked for over
// the membership RPC in parallel (each bounded by ctx and a 2s timeout), and
// each member's Lag. A member that does not answer has ProbeError set.
func (n *Node) ClusterStatus(ctx context.Context) Status {
	s := n.Status()
	var wg sync.WaitGroup
	for i := range s.Members {
		m := &s.Members[i]
		if m.ID == n.cfg.NodeID {
			m.fill(n.memberStatus())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, memberProbeTimeout)
			defer cancel()
			resp, err := call(pctx, n.clientTLS, m.Addr, rpcRequest{Op: opStatus})
			switch {
			case err != nil:
				m.ProbeError = err.Error()
			case resp.Status == nil:
				m.ProbeError = "answer without status: " + resp.Error
			default:
				m.fill(*resp.Status)
			}
		}()
	}
	wg.Wait()
	var commit uint64
	for _, m := range s.Members {
		commit = max(commit, m.CommitIndex)
	}
	for i := range s.Members {
		if m := &s.Members[i]; m.Probed && commit > m.AppliedIndex {
			m.Lag = commit - m.AppliedIndex
		}
	}
	return s
}

func (m *Member) fill(st MemberStatus) {
	m.Probed, m.State, m.Term = true, st.State, st.Term
	m.AppliedIndex, m.CommitIndex = st.AppliedIndex, st.CommitIndex
}

// heartbeatHealth records, on the leader, which followers' heartbeats are
// failing and when each was last reached. The Node's watcher goroutine
// writes it; Status reads it.
type heartbeatHealth struct {
	mu      sync.Mutex
	failing map[raft.ServerID]time.Time
}

func (h *heartbeatHealth) observe(data any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch o := data.(type) {
	case raft.FailedHeartbeatObservation:
		if h.failing == nil {
			h.failing = make(map[raft.ServerID]time.Time)
		}
		h.failing[o.PeerID] = o.LastContact
	case raft.ResumedHeartbeatObservation:
		delete(h.failing, o.PeerID)
	}
}

// reset forgets everything: heartbeats are the leader's, and a new
// leadership starts with a clean slate.
func (h *heartbeatHealth) reset() {
	h.mu.Lock()
	h.failing = nil
	h.mu.Unlock()
}

func (h *heartbeatHealth) snapshot() map[raft.ServerID]time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[raft.ServerID]time.Time, len(h.failing))
	for id, t := range h.failing {
		out[id] = t
	}
	return out
}
