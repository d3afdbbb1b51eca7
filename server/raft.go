package server

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/replica"
	"github.com/pgraft/pgraft/sqlengine"
)

// raft.go builds this node's Raft node and is the only file of server that
// holds a *replica.Node (tests and tools get it from Node). Every other part
// of the server reaches it through the interface it declares beside its
// use, with only the methods it calls: replicator (server.go),
// consistencyNode (consistency.go), leaderLink (forward.go) and clusterNode
// (http.go). They are pinned to *replica.Node here, where it is wired.

var (
	_ replicator           = (*replica.Node)(nil)
	_ consistencyNode      = (*replica.Node)(nil)
	_ leaderLink           = (*replica.Node)(nil)
	_ clusterNode          = (*replica.Node)(nil)
	_ replica.StateMachine = stateMachine{} // sqlengine never imports replica
)

// openRaft starts the Raft node over the engine, registers write
// forwarding on its port, and joins the cluster that cfg.Join names.
func (s *Server) openRaft() error {
	node, err := replica.Open(s.raftConfig(), stateMachine{s.eng, s.metrics, &s.applyClock})
	if err != nil {
		return fmt.Errorf("open raft: %w", err)
	}
	s.raft = node
	s.repl, s.reads, s.link, s.cluster = node, node, node, node
	if err := node.HandleRPC(forwardRPCByte, s.serveForward); err != nil {
		return fmt.Errorf("register write forwarding: %w", err)
	}
	return s.join()
}

// onEpochApplied is the engine's OnApplied callback: a pipelined epoch
// committed outside an apply batch (sqlengine/pipeline.go).
func (s *Server) onEpochApplied(index uint64) {
	if s.raft != nil {
		s.raft.NoteApplied(index)
	}
	s.applyClock.record(index, time.Now())
}

// raftConfig is the replica configuration of this node.
func (s *Server) raftConfig() replica.Config {
	rc := replica.DefaultConfig()
	rc.NodeID = s.cfg.NodeID
	rc.DataDir = s.cfg.DataDir
	rc.RaftAddr = s.cfg.RaftAddr
	rc.Listener = s.cfg.RaftListener
	rc.Bootstrap = len(s.cfg.Join) == 0
	rc.Logger = s.cfg.Logger // replica adds its own node and component keys
	if s.cfg.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = s.cfg.HeartbeatTimeout
		rc.LeaderLeaseTimeout = min(rc.LeaderLeaseTimeout, s.cfg.HeartbeatTimeout/2)
	}
	if s.cfg.ElectionTimeout > 0 {
		rc.ElectionTimeout = s.cfg.ElectionTimeout
	}
	if s.cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = s.cfg.SnapshotThreshold
	}
	rc.LogStore, rc.WALSegmentSize = s.cfg.RaftLogStore, s.cfg.RaftWALSegmentSize
	if s.cfg.TrailingLogs > 0 {
		rc.TrailingLogs = s.cfg.TrailingLogs
	}
	rc.Meta = map[string]string{"sqlite_version": sqlengine.SQLiteVersion(),
		"entry_format": strconv.Itoa(sqlengine.PayloadVersion)}
	rc.MustMatch = []string{"sqlite_version", "entry_format"}
	rc.TLS = s.nodeTLS
	return rc
}

// join makes the node a member of the cluster its Join addresses name: a
// node that kept its data and membership is left as it is, any other is
// added (as a voter unless Nonvoter) by the leader, which refuses a build it
// cannot replicate with.
func (s *Server) join() error {
	if len(s.cfg.Join) == 0 {
		return nil
	}
	d := s.cfg.JoinTimeout
	if d == 0 {
		d = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := s.raft.JoinCluster(ctx, s.cfg.Join, !s.cfg.Nonvoter); err != nil {
		return fmt.Errorf("join %s: %w", strings.Join(s.cfg.Join, ","), err)
	}
	return nil
}

// stopRaft shuts the Raft node down, a leader handing leadership over
// first (bounded to 10 s); nil if it was never opened.
func (s *Server) stopRaft() error {
	if s.raft == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.raft.Shutdown(ctx)
}

// crashRaft stops the Raft node abruptly, with no leadership transfer
// (Crash). A later stopRaft returns this call's result.
func (s *Server) crashRaft() error {
	if s.raft == nil {
		return nil
	}
	return s.raft.Crash()
}

// ExpectClusterStop tells the node that every member is stopping now
// (pgraft dev's Ctrl-C): peers going away are then logged at debug, not as
// warnings.
func (s *Server) ExpectClusterStop() {
	if s.raft != nil {
		s.raft.ExpectPeersGone()
	}
}

// Node returns the Raft node, for tests and tools.
func (s *Server) Node() *replica.Node { return s.raft }

// WaitLeader waits until this node knows a leader.
func (s *Server) WaitLeader(ctx context.Context) error { return s.raft.WaitLeader(ctx) }

// stateMachine adapts the engine to replica.StateMachine: the two packages
// share no types (sqlengine never imports replica), so Command is copied.
type stateMachine struct {
	e     *sqlengine.Engine
	m     *metrics
	clock *lagClock // nil in tests that need no lag
}

func (m stateMachine) ApplyBatch(cmds []replica.Command) []any {
	if m.m != nil {
		defer m.m.observe(m.m.apply, time.Now())
		m.m.applied.Add(float64(len(cmds)))
	}
	in := make([]sqlengine.Command, len(cmds))
	for i, c := range cmds {
		in[i] = sqlengine.Command{Index: c.Index, Term: c.Term, Data: c.Data}
	}
	out := m.e.ApplyBatch(in)
	if m.clock != nil {
		m.clock.record(m.e.AppliedIndex(), time.Now())
	}
	return out
}

func (m stateMachine) AppliedIndex() uint64 { return m.e.AppliedIndex() }

func (m stateMachine) Snapshot() (replica.Snapshot, error) {
	snap, err := m.e.Snapshot()
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func (m stateMachine) Restore(r io.Reader) error { return m.e.Restore(r) }

func (m stateMachine) Sync() error { return m.e.Sync() }

func (m stateMachine) Size() int64 { return m.e.Size() }
