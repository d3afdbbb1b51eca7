package proccluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds the wait for a started node to become ready; it
// fires only on a hang.
const readyTimeout = time.Minute

// stopTimeout is how long Stop waits for a clean exit after SIGTERM
// (pgraft's own shutdown deadline is 30 s too).
const stopTimeout = 30 * time.Second

// Config describes a cluster.
type Config struct {
	Binary string   // the pgraft binary (Binary.Path)
	Nodes  int      // how many nodes (at least 1)
	Flags  []string // extra `pgraft serve` flags for every node
	// KillOnCleanup makes cleanup kill the nodes still running (kill -9).
	// By default cleanup stops each with SIGTERM and fails the test unless
	// it exits cleanly within 30 s: every end-to-end test also checks
	// graceful shutdown.
	KillOnCleanup bool
	// Exited, when set, is called from a node's waiter goroutine when its
	// process exits without Kill, Stop or cleanup having asked for it; it
	// must not block or call the Cluster. When nil, such an exit fails the
	// test: pgraft is not meant to stop by itself.
	Exited func(n *Node, err error)
}

// Node is one node's identity, addresses and files, stable across
// restarts. New fills every field; a caller may change them between New
// and the node's first start (to run it in a network namespace, say).
type Node struct {
	Index    int    // position in Cluster.Nodes
	ID       string // --node-id: n1, n2, …
	Dir      string // --data-dir
	PGAddr   string // --pg-addr (clients)
	RaftAddr string // --raft-addr (Raft and node-to-node calls)
	HTTPAddr string // --http-addr (/readyz, /status)
	LogPath  string // the process's stdout and stderr, every start appended
	Flags    []string
	// Exec, when set, runs the binary through a command that execs it
	// (e.g. ip netns exec NS), so that signals still reach pgraft itself.
	Exec []string

	cmd     *exec.Cmd     // nil when never started, killed or stopped
	done    chan struct{} // closed when cmd has exited
	paused  bool          // SIGSTOPped
	asked   bool          // the exit was asked for (guarded by Cluster.mu)
	exitErr error         // written before done is closed
}

// DSN is a pgx/libpq URL for the node (user postgres, no TLS).
func (n *Node) DSN() string {
	return "postgres://postgres@" + n.PGAddr + "/postgres?sslmode=disable"
}

// Cluster is Config.Nodes pgraft processes forming one cluster: node 0
// bootstraps on its first start, every other start names the other nodes
// in --join (ignored by a node with Raft state). Its methods are for the
// test goroutine only.
type Cluster struct {
	Nodes []*Node

	t    testing.TB
	cfg  Config
	http *http.Client // its own transport, closed at cleanup
	mu   sync.Mutex   // guards each node's asked
}

// Start places cfg.Nodes nodes (New) and starts them (StartAll).
func Start(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	c := New(t, cfg)
	c.StartAll()
	return c
}

// New places cfg.Nodes nodes on free 127.0.0.1 ports, with data dirs and
// logs in the test's temporary directory, and starts none. It registers
// the cleanup that ends every process when the test ends: after a failure
// it first has each running node write its goroutines to its log
// (SIGQUIT), and keeps the logs, databases and Raft logs (the path is
// logged).
func New(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.Binary == "" || cfg.Nodes < 1 {
		t.Fatalf("proccluster: want a binary and at least one node, got %q and %d", cfg.Binary, cfg.Nodes)
	}
	base := t.TempDir()
	c := &Cluster{t: t, cfg: cfg, http: &http.Client{Transport: &http.Transport{}}}
	t.Cleanup(c.close)
	taken := map[int]bool{} // ports given to this cluster's nodes, not yet bound
	for i := 0; i < cfg.Nodes; i++ {
		n := &Node{Index: i, ID: fmt.Sprintf("n%d", i+1)}
		n.Dir, n.LogPath = filepath.Join(base, n.ID), filepath.Join(base, n.ID+".log")
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			t.Fatalf("proccluster: %v", err)
		}
		n.PGAddr, n.RaftAddr, n.HTTPAddr = freeAddr(t, taken), freeAddr(t, taken), freeAddr(t, taken)
		c.Nodes = append(c.Nodes, n)
	}
	return c
}

// StartAll starts every node in order, each once the one before is ready.
func (c *Cluster) StartAll() {
	c.t.Helper()
	for i := range c.Nodes {
		c.Start(i)
	}
}

// Start runs node i's process on its data dir and waits until it is ready
// (/readyz: it has joined, knows a leader and can apply). A node that does
// not become ready within a minute fails the test with its log's tail.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	n := c.Nodes[i]
	if c.Running(i) {
		c.t.Fatalf("proccluster: start node %d: already running", i)
	}
	args := []string{"serve", "--data-dir", n.Dir, "--pg-addr", n.PGAddr, "--raft-addr", n.RaftAddr,
		"--http-addr", n.HTTPAddr, "--node-id", n.ID}
	if !isLoopbackAddr(n.PGAddr) {
		// A test network of the test's own (a namespace's bridge): trust
		// is fine there, and pgraft wants it said.
		args = append(args, "--insecure", "--insecure-node-traffic")
	}
	var join []string
	for j, o := range c.Nodes {
		if j != i && o.cmd != nil {
			join = append(join, o.RaftAddr)
		}
	}
	if len(join) > 0 {
		args = append(args, "--join", strings.Join(join, ","))
	}
	args = append(append(args, c.cfg.Flags...), n.Flags...)
	argv := append(append(slices.Clone(n.Exec), c.cfg.Binary), args...)
	n.cmd = exec.Command(argv[0], argv[1:]...)
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatalf("proccluster: %v", err)
	}
	fmt.Fprintf(logf, "=== proccluster: start %s\n", time.Now().Format(time.RFC3339Nano))
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	c.mu.Lock()
	n.asked = false // the previous process's waiter has ended
	c.mu.Unlock()
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		n.cmd = nil
		c.t.Fatalf("proccluster: start node %d: %v", i, err)
	}
	n.done, n.paused = make(chan struct{}), false
	go c.wait(n, n.cmd, n.done, logf)
	if err := c.waitReady(n); err != nil {
		c.t.Fatalf("proccluster: node %d not ready: %v\n%s", i, err, tail(n.LogPath))
	}
}

// wait is the waiter goroutine of one process. It ends when the process
// does; cleanup ends every process.
func (c *Cluster) wait(n *Node, cmd *exec.Cmd, done chan struct{}, logf *os.File) {
	err := cmd.Wait()
	logf.Close()
	n.exitErr = err
	c.mu.Lock()
	asked := n.asked
	c.mu.Unlock()
	if !asked {
		if c.cfg.Exited != nil {
			c.cfg.Exited(n, err)
		} else {
			c.t.Errorf("proccluster: node %d exited by itself: %v (log %s)\n%s", n.Index, err, n.LogPath, tail(n.LogPath))
		}
	}
	close(done)
}

func (c *Cluster) waitReady(n *Node) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		select {
		case <-n.done:
			return fmt.Errorf("process exited: %v", n.exitErr)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.HTTPAddr+"/readyz", nil)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Running reports whether node i's process is up (a paused one is; one
// that exited by itself is not).
func (c *Cluster) Running(i int) bool {
	n := c.Nodes[i]
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// markAsked records that node n's next exit is expected.
func (c *Cluster) markAsked(n *Node) {
	c.mu.Lock()
	n.asked = true
	c.mu.Unlock()
}

// Kill ends node i's process with SIGKILL, as a crash would, and waits for
// it. Start brings the node back on the same data dir and addresses.
func (c *Cluster) Kill(i int) {
	n := c.Nodes[i]
	if n.cmd == nil {
		return
	}
	c.markAsked(n)
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd, n.paused = nil, false
}

// Stop ends node i's process with SIGTERM and fails the test unless it
// exits cleanly within 30 s; one that does not is made to write its
// goroutines to its log (SIGQUIT), then killed.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	n := c.Nodes[i]
	if n.cmd == nil {
		return
	}
	c.markAsked(n)
	if n.paused {
		n.cmd.Process.Signal(syscall.SIGCONT)
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		if n.exitErr != nil {
			c.t.Errorf("proccluster: node %d exited with %v after SIGTERM\n%s", i, n.exitErr, tail(n.LogPath))
		}
	case <-time.After(stopTimeout):
		n.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-n.done:
		case <-time.After(3 * time.Second):
			n.cmd.Process.Signal(syscall.SIGKILL)
			<-n.done
		}
		c.t.Errorf("proccluster: node %d did not stop within %v of SIGTERM\n%s", i, stopTimeout, tail(n.LogPath))
	}
	n.cmd, n.paused = nil, false
}

// Pause stops node i's process (SIGSTOP): it keeps its sockets and
// answers nothing until Resume.
func (c *Cluster) Pause(i int) {
	if n := c.Nodes[i]; n.cmd != nil && !n.paused {
		n.cmd.Process.Signal(syscall.SIGSTOP)
		n.paused = true
	}
}

// Resume continues a paused node (SIGCONT).
func (c *Cluster) Resume(i int) {
	if n := c.Nodes[i]; n.cmd != nil && n.paused {
		n.cmd.Process.Signal(syscall.SIGCONT)
		n.paused = false
	}
}

// close ends every process; it runs in t.Cleanup, also when the test
// failed half way, and keeps a failed test's node files.
func (c *Cluster) close() {
	defer c.http.CloseIdleConnections()
	failed := c.t.Failed()
	if failed {
		c.dumpStacks()
	}
	for i := range c.Nodes {
		if c.cfg.KillOnCleanup || failed {
			c.Kill(i)
		} else {
			c.Stop(i)
		}
	}
	if c.t.Failed() {
		c.keepFiles()
	}
}

// dumpStacks makes every running node write its goroutines to its log
// (SIGQUIT, which also ends it) before a failed test's cleanup kills it:
// a hung node's stacks are the bug report.
func (c *Cluster) dumpStacks() {
	for i, n := range c.Nodes {
		if !c.Running(i) {
			continue
		}
		c.markAsked(n)
		n.cmd.Process.Signal(syscall.SIGCONT)
		n.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-n.done:
		case <-time.After(3 * time.Second):
		}
	}
}

// keepFiles copies the nodes' logs, databases and Raft logs out of the
// test's temporary directory (removed after the test): a divergence or a
// hang is diagnosed from them.
func (c *Cluster) keepFiles() {
	dir, err := os.MkdirTemp("", "pgraft-nodes-")
	if err != nil {
		return
	}
	for _, n := range c.Nodes {
		if b, err := os.ReadFile(n.LogPath); err == nil {
			os.WriteFile(filepath.Join(dir, n.ID+".log"), b, 0o644)
		}
		for _, f := range []string{"db.sqlite", "db.sqlite-wal"} {
			if b, err := os.ReadFile(filepath.Join(n.Dir, f)); err == nil {
				os.WriteFile(filepath.Join(dir, n.ID+"-"+f), b, 0o644)
			}
		}
		_ = exec.Command("cp", "-a", filepath.Join(n.Dir, "raft"), filepath.Join(dir, n.ID+"-raft")).Run()
	}
	c.t.Logf("proccluster: node logs and databases kept in %s", dir)
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago. The
// node process binds it later, so the port comes from below Linux's
// ephemeral range (32768 and up), where the kernel never hands out ports
// for :0 listeners and outgoing connections: a port from :0 was taken by
// another test's connection in that moment (make test: "bind: address
// already in use"). taken holds the ports already given to the cluster.
func freeAddr(t testing.TB, taken map[int]bool) string {
	t.Helper()
	for range 1000 {
		port := portLow + rand.IntN(portHigh-portLow)
		if taken[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		taken[port] = true
		return addr
	}
	t.Fatal("proccluster: no free port below the ephemeral range")
	return ""
}

// The range freeAddr picks ports from.
const portLow, portHigh = 20000, 32000

// tail returns the end of a node's log, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// isLoopbackAddr reports whether a host:port address is on loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
