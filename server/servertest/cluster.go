package servertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server"
)

// clusterTimeout bounds every wait a Cluster does on its own (start-up,
// leader election, convergence in cleanup). It fires only on a hang.
const clusterTimeout = 60 * time.Second

// Cluster is several in-process pgraft nodes forming one Raft group, each on
// its own 127.0.0.1 listeners (real TCP). Node i keeps its ID, data dir and
// ports across Stop/Crash and Restart, as a real host would.
//
// Raft traffic goes through listeners that can cut a node off from the
// others (Isolate, Heal). Cluster methods are for the test goroutine; the
// nodes' own goroutines belong to each server and stop with it. Cleanup
// stops every node still running.
type Cluster struct {
	// Nodes is the current node in each slot. Restart replaces the slot's
	// Node, so read Nodes[i] again after it; a stopped node keeps its slot
	// (Running says which are up).
	Nodes []*Node

	t     testing.TB
	opts  []func(*server.Config)
	net   *faultNet
	slots []*slot
}

// slot is what survives a node's restart: identity, data and addresses.
type slot struct {
	id, dir                  string
	pgAddr, raftAddr, httpAd string
	running                  bool
}

// NewCluster starts n nodes: node 0 bootstraps, the others join it as
// voters one after another. Each opt adjusts every node's configuration
// (e.g. SnapshotThreshold) before it starts; it may also be a node's later
// restart or a late AddNode. Returns once every node has joined, knows the
// leader and admits clients (server.Server.WaitReady).
func NewCluster(t testing.TB, n int, opts ...func(*server.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, opts: opts, net: newFaultNet()}
	t.Cleanup(c.stopAll)
	for i := 0; i < n; i++ {
		c.AddNode()
	}
	return c
}

// AddNode starts one more node in a fresh data dir and joins it to the
// cluster as a voter (a node joining late gets the leader's snapshot when
// the log it needs is compacted). Returns its index.
func (c *Cluster) AddNode() int {
	c.t.Helper()
	i := len(c.slots)
	s := &slot{
		id:     fmt.Sprintf("node-%02d", i),
		dir:    filepath.Join(c.t.TempDir(), fmt.Sprintf("node%d", i)),
		pgAddr: "127.0.0.1:0", raftAddr: "127.0.0.1:0", httpAd: "127.0.0.1:0",
	}
	c.slots = append(c.slots, s)
	c.Nodes = append(c.Nodes, nil)
	c.net.addID(s.id)
	var join []string
	for j, o := range c.slots[:i] {
		if o.running {
			join = append(join, c.slots[j].raftAddr)
		}
	}
	if i > 0 && len(join) == 0 {
		c.t.Fatalf("servertest: add node %d: no running node to join", i)
	}
	c.start(i, join)
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := c.Nodes[i].WaitReady(ctx); err != nil {
		c.t.Fatalf("servertest: node %d: %v", i, err)
	}
	return i
}

// start opens node i on its slot's data dir and addresses. join empty:
// bootstrap on an empty dir, or just start on a dir with Raft state.
func (c *Cluster) start(i int, join []string) {
	c.t.Helper()
	s := c.slots[i]
	pgLn, raftLn, httpLn := listenAt(c.t, s.pgAddr), listenAt(c.t, s.raftAddr), listenAt(c.t, s.httpAd)
	s.pgAddr, s.raftAddr, s.httpAd = pgLn.Addr().String(), raftLn.Addr().String(), httpLn.Addr().String()
	cfg := server.Config{
		NodeID:       s.id,
		DataDir:      s.dir,
		RaftAddr:     s.raftAddr,
		Join:         join,
		PGListener:   pgLn,
		RaftListener: c.net.listener(raftLn, s.id),
		HTTPListener: httpLn,
		// Longer than Start's: three nodes share two cores with the test's
		// load, and a missed heartbeat must not depose a healthy leader.
		HeartbeatTimeout: 500 * time.Millisecond,
		ElectionTimeout:  500 * time.Millisecond,
		JoinTimeout:      clusterTimeout,
		Logger:           testLogger().With("slot", i),
	}
	for _, o := range c.opts {
		o(&cfg)
	}
	srv, err := server.Open(cfg)
	if err != nil {
		for _, l := range []net.Listener{pgLn, raftLn, httpLn} {
			l.Close() // Open may have failed before taking them over
		}
		c.t.Fatalf("servertest: open node %d (%s): %v", i, s.id, err)
	}
	c.Nodes[i] = &Node{Server: srv, DataDir: s.dir, t: c.t, password: nodePassword(cfg)}
	s.running = true
}

// listenAt listens on addr, retrying for a while when a port a node used
// before is still taken.
func listenAt(t testing.TB, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("servertest: listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ID returns node i's Raft server ID.
func (c *Cluster) ID(i int) string { return c.slots[i].id }

// RaftAddr returns node i's Raft address (stable across restarts).
func (c *Cluster) RaftAddr(i int) string { return c.slots[i].raftAddr }

// Running reports whether node i is up.
func (c *Cluster) Running(i int) bool { return c.slots[i].running }

// Stop shuts node i down gracefully (a leader hands leadership over).
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	if c.slots[i].running {
		c.slots[i].running = false
		c.Nodes[i].Stop()
	}
}

// Crash stops node i abruptly: no leadership transfer, connections cut
// (server.Server.Crash).
func (c *Cluster) Crash(i int) {
	c.t.Helper()
	if c.slots[i].running {
		c.slots[i].running = false
		if err := c.Nodes[i].Crash(); err != nil {
			c.t.Errorf("servertest: crash node %d: %v", i, err)
		}
	}
}

// Restart starts a stopped node again on its data dir and addresses. It
// does not wait for anything: the caller waits for what it needs.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.slots[i].running {
		c.t.Fatalf("servertest: restart node %d: still running", i)
	}
	c.start(i, nil)
}

// Isolate cuts node i off from every other node's Raft port and them from
// its (a network partition with i alone on one side): open connections
// close and new ones are closed as soon as they are recognised. PostgreSQL
// and HTTP listeners stay reachable, as clients on i's side would be.
func (c *Cluster) Isolate(i int) { c.net.isolate(c.slots[i].id) }

// Heal ends every isolation.
func (c *Cluster) Heal() { c.net.heal() }

// running returns the indexes of the running nodes.
func (c *Cluster) running() []int {
	var out []int
	for i, s := range c.slots {
		if s.running {
			out = append(out, i)
		}
	}
	return out
}

// LeaderIndex waits (bounded by clusterTimeout) until a running node is the
// leader and returns its index.
func (c *Cluster) LeaderIndex() int {
	c.t.Helper()
	deadline := time.Now().Add(clusterTimeout)
	for {
		for _, i := range c.running() {
			if c.Nodes[i].Node().IsLeader() {
				return i
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("servertest: no leader among running nodes %v within %v", c.running(), clusterTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Leader waits for a leader among the running nodes and returns it.
func (c *Cluster) Leader() *Node {
	c.t.Helper()
	return c.Nodes[c.LeaderIndex()]
}

// Followers returns the running nodes other than the current leader.
func (c *Cluster) Followers() []*Node {
	c.t.Helper()
	l := c.LeaderIndex()
	var out []*Node
	for _, i := range c.running() {
		if i != l {
			out = append(out, c.Nodes[i])
		}
	}
	return out
}

// WaitApplied waits until each of the given nodes (every running node when
// none is given) has applied index.
func (c *Cluster) WaitApplied(ctx context.Context, index uint64, nodes ...int) error {
	if len(nodes) == 0 {
		nodes = c.running()
	}
	for _, i := range nodes {
		if err := c.Nodes[i].Node().WaitApplied(ctx, index); err != nil {
			return fmt.Errorf("node %d (%s) waiting for index %d (at %d): %w",
				i, c.slots[i].id, index, c.Nodes[i].Node().AppliedIndex(), err)
		}
	}
	return nil
}

// WaitConverged waits until the leader has applied everything in its log
// (a Raft barrier) and the given nodes (every running node when none is
// given) have applied as far; it returns that index. A leader change while
// waiting starts over with the new leader.
func (c *Cluster) WaitConverged(ctx context.Context, nodes ...int) (uint64, error) {
	for {
		l := -1
		for _, i := range c.running() {
			if c.Nodes[i].Node().IsLeader() {
				l = i
			}
		}
		if l >= 0 {
			if err := c.Nodes[l].Node().Barrier(ctx); err == nil {
				index := c.Nodes[l].Node().AppliedIndex()
				return index, c.WaitApplied(ctx, index, nodes...)
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for convergence: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Checksum runs SELECT pgraft_checksum() on node i.
func (c *Cluster) Checksum(ctx context.Context, i int) (string, error) {
	conn, err := pgx.Connect(ctx, c.Nodes[i].DSN())
	if err != nil {
		return "", fmt.Errorf("node %d: connect: %w", i, err)
	}
	defer conn.Close(context.Background())
	var sum string
	if err := conn.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&sum); err != nil {
		return "", fmt.Errorf("node %d: pgraft_checksum: %w", i, err)
	}
	return sum, nil
}

// RequireConverged waits for convergence (WaitConverged) and fails the
// test unless the given nodes (every running one when none is given) report
// the same data applied index and the same pgraft_checksum(). It returns
// the checksum.
func (c *Cluster) RequireConverged(nodes ...int) string {
	c.t.Helper()
	if len(nodes) == 0 {
		nodes = c.running()
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	for {
		if _, err := c.WaitConverged(ctx, nodes...); err != nil {
			c.t.Fatalf("servertest: %v", err)
		}
		sum, moved, err := c.compareNodes(ctx, nodes)
		if err != nil {
			c.t.Fatalf("servertest: %v", err)
		}
		if !moved {
			return sum
		}
		// An entry still in flight when WaitConverged returned was
		// applied between the reads: wait for convergence again.
		if ctx.Err() != nil {
			c.t.Fatalf("servertest: nodes %v kept applying past %v", nodes, clusterTimeout)
		}
	}
}

// compareNodes reads each node's checksum and applied index. moved is true
// when the applied indexes differ (a read raced an apply); at equal
// indexes, different checksums fail the test.
func (c *Cluster) compareNodes(ctx context.Context, nodes []int) (first string, moved bool, err error) {
	var firstIndex uint64
	for k, i := range nodes {
		index := c.Nodes[i].Status(ctx, false).AppliedIndex
		sum, err := c.Checksum(ctx, i)
		if err != nil {
			return "", false, err
		}
		if index != c.Nodes[i].Status(ctx, false).AppliedIndex {
			return "", true, nil
		}
		if k == 0 {
			first, firstIndex = sum, index
			continue
		}
		if index != firstIndex {
			return "", true, nil
		}
		if sum != first {
			c.t.Fatalf("servertest: node %d differs from node %d at applied index %d: checksum %s vs %s",
				i, nodes[0], index, sum, first)
		}
	}
	return first, false, nil
}

// stopAll stops every running node at the end of the test: followers
// first, so no leadership moves needlessly.
func (c *Cluster) stopAll() {
	var leader []int
	for _, i := range c.running() {
		if c.Nodes[i].Node().IsLeader() {
			leader = append(leader, i)
			continue
		}
		c.Stop(i)
	}
	for _, i := range leader {
		c.Stop(i)
	}
}

// faultNet decides which Raft connections between the cluster's nodes may
// live. Every node's Raft listener is wrapped: a connection accepted by an
// isolated node is closed; a connection from an isolated node is closed as
// soon as its sender is recognised. The sender is recognised by its node
// ID in the first bytes of the connection: every Raft RPC starts with a
// header naming the sender (raft's RPCHeader, ID before anything else), and
// the IDs are chosen so that none contains another. Connections that
// carry no ID (node RPC) are left alone unless accepted by an isolated node.
type faultNet struct {
	mu       sync.Mutex
	ids      [][]byte
	isolated map[string]bool
	conns    map[*faultConn]struct{}
}

// sniffLimit is how many bytes of a connection are searched for a sender ID.
const sniffLimit = 512

func newFaultNet() *faultNet {
	return &faultNet{isolated: make(map[string]bool), conns: make(map[*faultConn]struct{})}
}

func (f *faultNet) addID(id string) {
	f.mu.Lock()
	f.ids = append(f.ids, []byte(id))
	f.mu.Unlock()
}

func (f *faultNet) listener(l net.Listener, local string) net.Listener {
	return &faultListener{Listener: l, net: f, local: local}
}

func (f *faultNet) isolate(id string) {
	f.mu.Lock()
	f.isolated[id] = true
	var cut []*faultConn
	for fc := range f.conns {
		if fc.local == id || fc.peer == id {
			cut = append(cut, fc)
		}
	}
	f.mu.Unlock()
	for _, fc := range cut {
		fc.Close()
	}
}

func (f *faultNet) heal() {
	f.mu.Lock()
	clear(f.isolated)
	f.mu.Unlock()
}

// faultListener wraps a node's Raft listener.
type faultListener struct {
	net.Listener
	net   *faultNet
	local string
}

// Accept returns the next connection the fault net lets through.
func (l *faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		f := l.net
		f.mu.Lock()
		if f.isolated[l.local] {
			f.mu.Unlock()
			c.Close()
			continue
		}
		fc := &faultConn{Conn: c, net: f, local: l.local}
		f.conns[fc] = struct{}{}
		f.mu.Unlock()
		return fc, nil
	}
}

// faultConn is an accepted Raft-port connection that learns its sender.
type faultConn struct {
	net.Conn
	net   *faultNet
	local string

	// Guarded by net.mu.
	peer    string // sender's node ID once recognised
	sniffed []byte // the first bytes read, until the sender is recognised
	done    bool   // sniffing finished (recognised or sniffLimit passed)
}

// Read reads from the connection, closing it instead once its sender
// turns out to be isolated. The bytes that name the sender are never
// passed on in that case.
func (c *faultConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	f := c.net
	f.mu.Lock()
	if !c.done && n > 0 {
		c.sniffed = append(c.sniffed, p[:n]...)
		c.peer = f.sender(c.sniffed, c.local)
		c.done = c.peer != "" || len(c.sniffed) >= sniffLimit
		if c.done {
			c.sniffed = nil
		}
	}
	cut := f.isolated[c.local] || (c.peer != "" && f.isolated[c.peer])
	f.mu.Unlock()
	if cut {
		c.Close()
		return 0, net.ErrClosed
	}
	return n, err
}

// sender returns the ID that occurs first in b, other than local's.
func (f *faultNet) sender(b []byte, local string) string {
	best, at := "", -1
	for _, id := range f.ids {
		if string(id) == local {
			continue
		}
		if k := bytes.Index(b, id); k >= 0 && (at < 0 || k < at) {
			best, at = string(id), k
		}
	}
	return best
}

// Close closes the connection and forgets it.
func (c *faultConn) Close() error {
	c.net.mu.Lock()
	delete(c.net.conns, c)
	c.net.mu.Unlock()
	err := c.Conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
