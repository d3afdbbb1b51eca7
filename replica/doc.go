// Package replica replicates opaque commands through a hashicorp/raft log.
// It knows nothing of SQL: a command is a []byte payload, and its response
// is whatever the StateMachine returns.
//
// Shape (hraftd's): Open starts a Node over a StateMachine; Propose wraps a
// payload in the entry envelope (entry.go) and hands it to raft; the FSM
// adapter (fsm.go) unwraps committed entries and hands them to
// StateMachine.ApplyBatch on every node. The log and stable store are
// raft-boltdb/v2 under DataDir/raft behind raft.LogCache; snapshots are
// raft's file store under DataDir/snapshots. Raft and node-to-node RPC share
// one TCP port (transport.go): the first byte of a connection routes it.
//
// Goroutines, all stopped by Node.Shutdown:
//   - raft's own (main loop, FSM, snapshots, replication, transport);
//   - the leader watcher (membership.go), which wakes WaitLeader and calls
//     OnLeadershipChange callbacks;
//   - the shared port's accept loop, one goroutine per connection until its
//     first byte, and one per RPC connection running its HandleRPC handler
//     (the Node's own membership RPC among them: join, remove, status;
//     rpc.go, join.go);
//   - ClusterStatus's per-member probes, which it waits for before returning;
//   - one helper per in-flight Propose, Barrier or membership change waiting
//     on raft's future. It ends when raft answers; raft leaves unanswered
//     only entries it committed but had not applied when it shut down, and
//     Propose itself returns at shutdown regardless.
//
// Invariants:
//   - StateMachine.ApplyBatch sees commands in log order, from raft's one
//     FSM goroutine; raft's own entries (no-ops, configuration) never reach
//     it.
//   - An entry this node cannot decode, or of a type it does not know that
//     is not marked skippable, panics the FSM: halting beats diverging.
//   - Start-up never replays into a state machine that is behind the newest
//     snapshot: Open restores that snapshot first (raft's own restore on
//     start is off). Entries at or below the state machine's applied index
//     are replayed to it and skipped by it (DESIGN I2).
//   - A node never bootstraps unless Config.Bootstrap says so; joining is
//     separate (Join, JoinCluster) and idempotent (DESIGN §9): the leader
//     leaves a member with the same ID and address alone, updates a moved
//     one, and removes and re-adds one that lost its Raft state. A joiner
//     whose Config.MustMatch metadata differs is refused.
//   - Raft's errors are translated at this boundary (errors.go); callers
//     never import raft. A Propose error says whether the entry may have
//     committed (IsAmbiguous) or was definitely not appended.
package replica
