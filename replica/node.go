package replica

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// logCacheSize is how many recent entries raft.LogCache keeps in memory, so
// replication to followers rarely reads the log back from disk.
const logCacheSize = 512

// Node is one member of the Raft group: the raft instance, its durable
// stores, the FSM adapter and the shared-port transport.
type Node struct {
	cfg       Config
	peersGone *atomic.Bool // the whole cluster is stopping (quietlog.go)
	log       *slog.Logger // component=replica
	raftLog   *slog.Logger // component=raft: raft's own records, via hclog.go
	sm        StateMachine
	addr      string // advertised Raft address
	// clientTLS is node TLS's dialing side (nil for plain TCP), for every
	// connection this node makes to a peer's Raft port.
	clientTLS *tls.Config
	raft      *raft.Raft
	fsm       *fsm
	trans     *clampTransport // raft's transport, commit index clamped (commitclamp.go)
	mux       *mux
	store     logStore
	snaps     raft.SnapshotStore

	applied  *appliedIndex
	inflight *inflight // bytes of the proposals not yet applied (inflight.go)
	// fresh: Open found no Raft state, and no join has succeeded since. A
	// JoinRequest says so, and the leader re-adds a known ID (DESIGN §9).
	fresh atomic.Bool

	heartbeats heartbeatHealth // leader-side follower health, for Status
	ready      readiness       // the term whose barrier applied here (leadership.go)
	riPool     *connPool       // read-index connections to the leader (readindex.go)

	// leader watcher (leadership.go): the Node's own goroutine, and the
	// readiness barriers it starts
	observerCh chan raft.Observation
	observer   *raft.Observer
	leaderMu   sync.Mutex
	leaderCh   chan struct{} // closed and replaced whenever the known leader changes
	fnsMu      sync.Mutex
	newFns     []func(bool) // registered, not yet told the current state
	kick       chan struct{}
	stopWatch  context.CancelFunc
	wg         sync.WaitGroup

	stopped      chan struct{} // closed once raft has shut down
	stopping     chan struct{} // closed when shutdown starts (stopOnce)
	stopOnce     sync.Once
	shutdownOnce sync.Once
	shutdownErr  error
}

// Open starts a node: it opens the log and snapshot stores under DataDir,
// brings sm up to the newest snapshot if sm is behind it, starts raft on the
// shared port, and bootstraps a one-node cluster if cfg.Bootstrap is set and
// there is no Raft state yet. sm must already hold its durable applied
// index. The returned Node owns a leader-watch goroutine, the port's accept
// loop and raft's goroutines until Shutdown.
func Open(cfg Config, sm StateMachine) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	peersGone := new(atomic.Bool)
	log = slog.New(quietHandler{next: log.Handler(), quiet: peersGone}).With(logKeyNode, cfg.NodeID) // quietlog.go
	n := &Node{
		cfg:       cfg,
		peersGone: peersGone,
		log:       log.With(logKeyComponent, "replica"),
		raftLog:   log.With(logKeyComponent, "raft"),
		sm:        sm,
		stopped:   make(chan struct{}),
		stopping:  make(chan struct{}),
		riPool:    newConnPool(ReadIndexRPCByte, readIndexPoolSize, cfg.TLS.clientConfig()),
		inflight:  newInflight(cfg.MaxInflightBytes),

		clientTLS: cfg.TLS.clientConfig(),
	}
	if err := n.open(); err != nil {
		if n.raft != nil {
			_ = n.raft.Shutdown().Error() // the open error is the one to report
		}
		_ = n.closeResources()
		return nil, err
	}
	n.startWatch()
	n.log.Info("raft node started", "addr", n.addr, "applied", sm.AppliedIndex())
	return n, nil
}

// open builds the node's parts in dependency order; on error the caller
// closes whatever was opened.
func (n *Node) open() error {
	if err := n.openStores(); err != nil {
		return err
	}
	if err := restoreOnStart(n.snaps.(*refStore).SnapshotStore, n.sm, n.log); err != nil {
		return err
	}
	n.applied = newAppliedIndex(n.sm.AppliedIndex())
	n.fsm = &fsm{sm: n.sm, applied: n.applied, stopping: n.stopping}
	if err := n.openTransport(); err != nil {
		return err
	}
	existing, err := raft.HasExistingState(n.store, n.store, n.snaps)
	if err != nil {
		return fmt.Errorf("check raft state: %w", err)
	}
	n.fresh.Store(!existing)
	if applied := n.sm.AppliedIndex(); !existing && applied > 0 {
		// Raft would replay the cluster's log from index 1 and the state
		// machine would skip entries 1..applied that are not the ones it
		// applied: it must start empty or with its Raft state (DESIGN §9).
		return fmt.Errorf("state machine has applied index %d but %s holds no raft state: "+
			"refusing to start (restore the raft directory, or start with an empty database)",
			applied, n.cfg.DataDir)
	}
	logs, err := raft.NewLogCache(logCacheSize, n.store)
	if err != nil {
		return fmt.Errorf("open raft log cache: %w", err)
	}
	rc := n.cfg.raftConfig(n.raftLog)
	if n.cfg.TrailingLogs == 0 { // sized to the state machine (logtune.go)
		rc.TrailingLogs = trailingLogsFor(n.sm)
		if n.cfg.SnapshotThreshold == 0 {
			rc.SnapshotThreshold = snapshotThresholdFor(rc.TrailingLogs)
		}
	}
	n.raft, err = raft.NewRaft(rc, n.fsm, logs, n.store, n.snaps, n.trans)
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	n.trans.answerHeartbeatsFor(n.raft, rc.LocalID, raft.ServerAddress(n.addr))
	if err := n.handleRPCs(); err != nil {
		return err
	}
	if n.cfg.Bootstrap && !existing {
		return n.bootstrap()
	}
	return nil
}

func (n *Node) openStores() error {
	dir := filepath.Join(n.cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create raft dir: %w", err)
	}
	store, kind, err := openLogStore(dir, n.cfg.LogStore, n.cfg.WALSegmentSize)
	if err != nil {
		return err
	}
	n.log.Debug("opened raft log", "store", kind)
	if n.cfg.wrapLogStore != nil {
		store = n.cfg.wrapLogStore(store)
	}
	n.store = store
	hl := newHCLogger(n.raftLog, "snapshot")
	files, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.DataDir, snapshotsRetained, hl)
	if err != nil {
		return fmt.Errorf("open snapshot store: %w", err)
	}
	n.snaps = &refStore{SnapshotStore: files, sm: n.sm, dir: n.cfg.DataDir, log: n.log}
	return nil
}

func (n *Node) openTransport() error {
	ln := n.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", n.cfg.RaftAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", n.cfg.RaftAddr, err)
		}
	}
	n.addr = advertise(n.cfg, ln)
	n.mux = newMux(ln, advertisedAddr(n.addr), n.cfg.TLS.serverConfig(), n.clientTLS, n.log)
	n.trans = newClampTransport(raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  n.mux.raft,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  newHCLogger(n.raftLog, "raft-net"),
		// No pipelined replication. When a follower rejects a pipelined
		// AppendEntries (it could not store the entries: disk full),
		// raft's pipelineDecode returns and stops draining responses, the
		// transport's decoder then blocks handing over the next one, and
		// pipelineSend blocks for ever queueing the next request, never
		// seeing that the decoder ended: the leader stops replicating to
		// that follower for good. HashiCorp measured pipelining to bring
		// little on a LAN (hashicorp/raft#541); with 1 in flight every
		// AppendEntries is a plain RPC.
		MaxRPCsInFlight: 1,
	}))
	return nil
}

// handleRPCs routes the node's own RPCs to their handlers. It runs once
// raft exists: the mux accepts connections from the start, and a request
// that arrived earlier (a peer's read index while this node restarts) must
// find no handler, and its connection closed, rather than a nil raft.
func (n *Node) handleRPCs() error {
	if err := n.mux.handle(ReadIndexRPCByte, n.serveReadIndex); err != nil {
		return err
	}
	return n.mux.handle(MembershipRPCByte, n.serveMembership)
}

// advertise picks the address peers dial: RaftAddr when it names a host
// and port, otherwise what the listener actually bound (tests use :0).
func advertise(cfg Config, ln net.Listener) string {
	if cfg.Listener == nil {
		if _, port, err := net.SplitHostPort(cfg.RaftAddr); err == nil && port != "0" {
			return cfg.RaftAddr
		}
	}
	return ln.Addr().String()
}

func (n *Node) bootstrap() error {
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter,
		ID:       raft.ServerID(n.cfg.NodeID),
		Address:  raft.ServerAddress(n.addr),
	}}}
	if err := n.raft.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("bootstrap cluster: %w", err)
	}
	n.log.Info("bootstrapped a one-node cluster")
	return nil
}

// Propose appends payload to the log as a Statements entry and waits until
// this node has applied it. It returns the entry's index and the state
// machine's response (which may itself be an error value: a data error is a
// result, not a failure). On error, IsAmbiguous says whether the entry may
// still commit. Only the leader accepts proposals (ErrNotLeader elsewhere).
func (n *Node) Propose(ctx context.Context, payload []byte) (index uint64, resp any, err error) {
	p, err := n.Enqueue(ctx, payload)
	if err != nil {
		return 0, nil, err
	}
	return p.Wait(ctx)
}

// Proposal is an entry handed to raft; Wait returns its outcome.
type Proposal struct {
	n    *Node
	f    raft.ApplyFuture
	size int64     // its bytes in the node's in-flight budget (inflight.go)
	done sync.Once // gives them back
}

// Enqueue hands payload to raft and returns once raft has queued it:
// entries enqueued one after another are appended to the log in that
// order, which commit pipelining relies on (the next write runs on top of
// this one as soon as Enqueue returns).
func (n *Node) Enqueue(ctx context.Context, payload []byte) (*Proposal, error) {
	if n.isShutdown() {
		return nil, ErrShutdown
	}
	if len(payload) > n.cfg.MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), n.cfg.MaxEntrySize)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	size := int64(len(payload))
	if err := n.inflight.acquire(ctx, size); err != nil {
		return nil, err // not appended: raft never saw it
	}
	return &Proposal{n: n, f: n.raft.Apply(encodeEntry(entryStatements, payload), n.enqueueTimeout(ctx)), size: size}, nil
}

// Wait waits until the entry is committed and applied on this node, and
// returns its index and the state machine's response. Its bytes leave the
// in-flight budget when Wait returns, also when ctx ended first.
func (p *Proposal) Wait(ctx context.Context) (index uint64, resp any, err error) {
	defer p.done.Do(func() { p.n.inflight.release(p.size) })
	if err := p.n.await(ctx, p.f); err != nil {
		return 0, nil, translateError(err, !isEnqueueError(err))
	}
	return p.f.Index(), p.f.Response(), nil
}

// isEnqueueError reports whether raft refused the entry before appending
// it; any other failure after Apply may follow an append.
func isEnqueueError(err error) bool {
	return errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrEnqueueTimeout) ||
		errors.Is(err, raft.ErrLeadershipTransferInProgress)
}

// enqueueTimeout bounds raft's enqueue wait by ApplyTimeout and ctx.
func (n *Node) enqueueTimeout(ctx context.Context) time.Duration {
	t := n.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < t {
			t = max(left, time.Millisecond)
		}
	}
	return t
}

// await waits for a raft future, ctx, or raft's shutdown. Raft does not
// answer futures it committed but had not applied when it shut down, so the
// helper goroutine ends when raft answers, which may be never in that case;
// the caller has returned by then.
func (n *Node) await(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopped:
		select { // prefer the real answer when both are ready
		case err := <-done:
			return err
		default:
			return raft.ErrRaftShutdown
		}
	}
}

// WaitApplied returns once this node has applied index (or beyond).
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.applied.wait(ctx, index, n.stopped)
}

// Barrier waits until every entry appended before it is applied on this
// node. Leader only; a new leader uses it before serving linearizable reads.
func (n *Node) Barrier(ctx context.Context) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	f := n.raft.Barrier(n.enqueueTimeout(ctx))
	if err := n.await(ctx, f); err != nil {
		return fmt.Errorf("barrier: %w", translateError(err, false))
	}
	return nil
}

// TransferLeadership hands leadership to the most up-to-date voter, when
// this node leads and has one (a leader that cannot apply the log steps
// aside so that writes go on elsewhere).
func (n *Node) TransferLeadership(ctx context.Context) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	if !n.IsLeader() || !n.hasOtherVoters() {
		return nil
	}
	if err := n.await(ctx, n.raft.LeadershipTransfer()); err != nil {
		return fmt.Errorf("transfer leadership: %w", translateError(err, false))
	}
	return nil
}

// VerifyLeader confirms with a quorum that this node is still the leader.
func (n *Node) VerifyLeader(ctx context.Context) error {
	if n.isShutdown() {
		return ErrShutdown
	}
	if err := n.await(ctx, n.raft.VerifyLeader()); err != nil {
		return fmt.Errorf("verify leader: %w", translateError(err, false))
	}
	return nil
}

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the leader's ID and Raft address as this node knows them
// (empty when unknown).
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// State returns "Leader", "Follower", "Candidate" or "Shutdown".
func (n *Node) State() string { return n.raft.State().String() }

// Term returns the current Raft term.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// AppliedIndex returns the highest index this node has applied: the state
// machine's own, or beyond it when the entries since are raft's own no-op
// and configuration entries, which change no data.
func (n *Node) AppliedIndex() uint64 {
	i, _ := n.applied.load()
	return max(i, n.sm.AppliedIndex())
}

// NoteApplied tells the node that its state machine made index durable
// outside ApplyBatch (a leader's pipelined epoch committed): WaitApplied
// callers wake.
func (n *Node) NoteApplied(index uint64) {
	n.applied.advance(min(index, n.sm.AppliedIndex()))
}

// CommitIndex returns the highest index this node knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// LastIndex returns the index of the last entry in this node's log.
func (n *Node) LastIndex() uint64 { return n.raft.LastIndex() }

// lastSnapshotIndex returns the index of raft's latest snapshot (0: none).
func (n *Node) lastSnapshotIndex() uint64 {
	i, _ := strconv.ParseUint(n.raft.Stats()["last_snapshot_index"], 10, 64)
	return i
}

func (n *Node) isShutdown() bool {
	select {
	case <-n.stopped:
		return true
	default:
		return false
	}
}

// Shutdown stops the node: a leader with other voters first hands
// leadership over, then raft stops, the watcher and the port's goroutines
// stop, and the stores close. ctx bounds the leadership transfer only.
// Idempotent; later calls return the first call's result.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(ctx, true) })
	return n.shutdownErr
}

// shutdown stops the node; transfer says whether a leader hands leadership
// over first (tests pass false to simulate a crash).
func (n *Node) shutdown(ctx context.Context, transfer bool) error {
	if transfer && n.IsLeader() && n.hasOtherVoters() {
		if err := n.await(ctx, n.raft.LeadershipTransfer()); err != nil {
			n.log.Warn("leadership transfer before shutdown failed", logKeyErr, err)
		} else {
			n.log.Info("transferred leadership before shutdown")
		}
	}
	var errs []error
	n.stopOnce.Do(func() { close(n.stopping) }) // a snapshot waiting in Persist gives up
	if err := n.raft.Shutdown().Error(); err != nil {
		errs = append(errs, fmt.Errorf("shut down raft: %w", err))
	}
	close(n.stopped)
	n.stopWatchAndWait()
	errs = append(errs, n.closeResources())
	n.log.Info("raft node stopped")
	return errors.Join(errs...)
}

// closeResources closes the transport, the port and the log store,
// whichever were opened. Raft must be stopped (or never started).
func (n *Node) closeResources() error {
	var errs []error
	n.riPool.close()
	if n.trans != nil {
		if err := n.trans.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft transport: %w", err))
		}
	}
	if n.mux != nil {
		if err := n.mux.close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft port: %w", err))
		}
	} else if n.cfg.Listener != nil {
		n.cfg.Listener.Close() // Open took ownership of it
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft log: %w", err))
		}
	}
	return errors.Join(errs...)
}
