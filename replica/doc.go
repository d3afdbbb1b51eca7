// Package replica replicates opaque commands through a hashicorp/raft log.
// It knows nothing of SQL: a command is a []byte payload, and its response
// is whatever the StateMachine returns.
//
// Shape (hraftd's): Open starts a Node over a StateMachine; Propose wraps a
// payload in the entry envelope and hands it to raft; the FSM adapter
// unwraps committed entries and hands them to StateMachine.ApplyBatch on
// every node. Raft and node-to-node RPC share one TCP port: the first byte
// of a connection routes it.
//
// Files:
//   - node.go: Node, Open (stores, restore, transport, raft, bootstrap),
//     Propose, Barrier, WaitApplied, Shutdown; config.go: Config and its
//     defaults; statemachine.go: the StateMachine contract;
//   - entry.go: the log entry envelope (type byte, skippable bit); fsm.go:
//     the FSM adapter and the applied index; snapshot.go: snapshots and
//     the restore on start;
//   - logstore.go: the durable log and stable store under DataDir/raft,
//     raft-wal (wal/, the default) or raft-boltdb (raft.db, when
//     Config.LogStore says so), behind raft.LogCache; a failed write to it
//     halts the process. Snapshots are raft's file store in
//     DataDir/snapshots;
//   - transport.go: the shared port (mux), raft's stream layer on it,
//     HandleRPC and DialRPC; commitclamp.go: raft's transport with the
//     follower's commit index clamped to what a request proved;
//   - frame.go: the one frame format of every node-to-node call
//     (versioned MessagePack, size-limited); values.go: Values and Rows,
//     which a frame carries with their exact Go types;
//   - rpc.go: the membership RPC (join, remove, status); join.go: joining
//     and its idempotence rules; membership.go: adding and removing
//     members; status.go: Status and ClusterStatus;
//   - leadership.go: the leader watcher, WaitLeader, OnLeadershipChange,
//     and leader readiness (WaitLeaderReady: one barrier per term led);
//   - readindex.go: ReadIndex for linearizable reads, over the read-index
//     RPC to the leader; connpool.go: the follower's pooled connections
//     for it;
//   - errors.go: sentinels and the translation of raft's errors; fault.go:
//     Crash; hclog.go: raft's hclog into slog.
//
// Goroutines, all stopped by Node.Shutdown (or Crash):
//   - raft's own (main loop, FSM, snapshots, replication, transport), and
//     the clamping transport's relay (commitclamp.go);
//   - the leader watcher (leadership.go), which wakes WaitLeader and
//     WaitLeaderReady callers, calls OnLeadershipChange callbacks, and
//     starts the readiness barrier of each term this node leads: one
//     goroutine that retries a raft barrier until it applies, the term
//     ends or the node stops;
//   - the shared port's accept loop, one goroutine per connection until its
//     first byte, and one per RPC connection running its handler (the
//     Node's own membership and read-index handlers among them; others
//     registered with HandleRPC);
//   - ClusterStatus's per-member probes, which it waits for before returning;
//   - one helper per in-flight Propose, Barrier or membership change waiting
//     on raft's future. It ends when raft answers; raft leaves unanswered
//     only entries it committed but had not applied when it shut down, and
//     Propose itself returns at shutdown regardless.
//
// Invariants:
//   - StateMachine.ApplyBatch sees commands in log order, from raft's one
//     FSM goroutine; raft's own entries (no-ops, barriers, configuration)
//     never reach it.
//   - An entry this node cannot decode, or of a type it does not know that
//     is not marked skippable, panics the FSM: halting beats diverging.
//   - Start-up never replays into a state machine that is behind the newest
//     snapshot: Open restores that snapshot first (raft's own restore on
//     start is off). Entries at or below the state machine's applied index
//     are replayed to it and skipped by it (DESIGN I2).
//   - A leader is ready (WaitLeaderReady, and so ReadIndex) only once a
//     barrier of its current term applied here: every entry committed
//     before its term is applied.
//   - A node never bootstraps unless Config.Bootstrap says so; joining is
//     separate (Join, JoinCluster) and idempotent (DESIGN §9): the leader
//     leaves a member with the same ID and address alone, updates a moved
//     one, and removes and re-adds one that lost its Raft state. A joiner
//     whose Config.MustMatch metadata differs is refused.
//   - Every node-to-node call is framed by frame.go: a frame over its
//     call's limit, malformed, or of another format closes the connection
//     that sent it, and never panics the node (DESIGN I7).
//   - Raft's errors are translated at this boundary (errors.go); callers
//     never import raft. A Propose error says whether the entry may have
//     committed (IsAmbiguous) or was definitely not appended.
package replica
