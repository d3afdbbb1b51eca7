package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// procCluster is the process backend: `pgraft serve` processes, each in
// its own network namespace (netLab) with its data dir on its own small
// tmpfs, so the nemesis can kill, pause, partition, fill the disk and move
// the clock (--fault-clock-file). Without namespaces (not root) it falls
// back to 127.0.0.1 and injects no partitions; without tmpfs, no disk
// faults; notes says which.
type procCluster struct {
	t     testing.TB
	bin   string
	lab   *netLab // nil: no namespaces
	nodes []*procNode

	mu    sync.Mutex // guards note, exits and each node's killed and fill
	note  []string   // what could not run, and expected exits
	exits []string   // unexpected process exits (violations)
}

// procNode is one node's identity, files and current process.
type procNode struct {
	i                          int
	id, ns                     string
	pgAddr, raftAddr, httpAddr string
	dir, clockFile, logPath    string
	mounted                    bool
	fill                       string // the file filling the volume, "" when not full

	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	killed  bool          // the exit was asked for (kill -9 by the nemesis or cleanup)
	paused  bool
	exitErr error
}

// tmpfsSize is each node's data volume: large enough for a run, small
// enough to fill in a moment.
const tmpfsSize = "64m"

// binary builds cmd/pgraft once per test binary.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func buildBinary() (string, error) {
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "pgraft-chaos-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "pgraft")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/pgraft/pgraft/cmd/pgraft").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("build pgraft: %v\n%s", err, out)
		}
	})
	return binary.path, binary.err
}

func newProcCluster(t testing.TB, nodes int) *procCluster {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("chaostest: %v", err)
	}
	base := t.TempDir() // registered before our cleanup, so removed after it
	c := &procCluster{t: t, bin: bin}
	t.Cleanup(c.close)
	if c.lab, err = newNetLab(nodes); err != nil {
		c.lab = nil
		c.note = append(c.note, "partitions: not run (no network namespaces: "+firstLine(err)+")")
		t.Logf("chaostest: no network namespaces, nodes on 127.0.0.1 and no partitions: %v", err)
	}
	for i := 0; i < nodes; i++ {
		c.nodes = append(c.nodes, c.newNode(t, base, i))
	}
	if !c.nodes[0].mounted {
		c.note = append(c.note, "disk full: not run (no tmpfs mount)")
	}
	for i := range c.nodes {
		c.start(i)
	}
	return c
}

func (c *procCluster) newNode(t testing.TB, base string, i int) *procNode {
	n := &procNode{i: i, id: fmt.Sprintf("n%d", i+1)}
	n.dir = filepath.Join(base, n.id)
	n.clockFile = filepath.Join(base, n.id+".clock")
	n.logPath = filepath.Join(base, n.id+".log")
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		t.Fatalf("chaostest: %v", err)
	}
	if c.lab != nil {
		n.ns, n.pgAddr = c.lab.ns(i), net.JoinHostPort(c.lab.ip(i), "5433")
		n.raftAddr, n.httpAddr = net.JoinHostPort(c.lab.ip(i), "7433"), net.JoinHostPort(c.lab.ip(i), "8433")
		if err := runCmd("mount", "-t", "tmpfs", "-o", "size="+tmpfsSize, "tmpfs", n.dir); err == nil {
			n.mounted = true
			if err := c.lab.addMount(n.dir); err != nil {
				t.Fatalf("chaostest: %v", err)
			}
		} else if i == 0 {
			t.Logf("chaostest: no tmpfs for data dirs, no disk-full faults: %v", err)
		}
		return n
	}
	n.pgAddr, n.raftAddr, n.httpAddr = freeAddr(t), freeAddr(t), freeAddr(t)
	return n
}

func (c *procCluster) backend() string { return "proc" }
func (c *procCluster) size() int       { return len(c.nodes) }
func (c *procCluster) notes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.note...)
}

// running reports whether node i's process is up (a process that exited
// by itself is not: healAll starts it again).
func (c *procCluster) running(i int) bool {
	n := c.nodes[i]
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

func (c *procCluster) dsn(i int) string {
	return "postgres://postgres@" + c.nodes[i].pgAddr + "/postgres?sslmode=disable&connect_timeout=2"
}

func (c *procCluster) kinds() []faultKind {
	k := []faultKind{crashLeader, crashAny, pauseLeader, pauseAny, clockJump}
	if c.lab != nil {
		k = append(k, isolateLeader, isolateAny, bridge)
		if len(c.nodes) >= 5 {
			k = append(k, splitMajority)
		}
	}
	if c.nodes[0].mounted {
		k = append(k, diskFull)
	}
	return k
}

// start runs node i's process and waits until it is ready (/readyz: it
// knows a leader). Node 0 bootstraps on its first start; every other start
// names the other nodes in --join (ignored by a node with Raft state).
func (c *procCluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	args := []string{"serve", "--data-dir", n.dir, "--pg-addr", n.pgAddr, "--raft-addr", n.raftAddr,
		"--http-addr", n.httpAddr, "--node-id", n.id, "--fault-clock-file", n.clockFile,
		// The volume is a small tmpfs (tmpfsSize): keep the admission
		// threshold below it, so that only the disk-full fault trips it.
		"--min-free-disk", "4"}
	var join []string
	for j, o := range c.nodes {
		if j != i && o.cmd != nil {
			join = append(join, o.raftAddr)
		}
	}
	if len(join) > 0 {
		args = append(args, "--join", strings.Join(join, ","))
	}
	if n.ns != "" {
		args = append([]string{"netns", "exec", n.ns, c.bin}, args...)
		n.cmd = exec.Command("ip", args...) // ip execs the binary: the pid is pgraft's
	} else {
		n.cmd = exec.Command(c.bin, args...)
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatalf("chaostest: %v", err)
	}
	fmt.Fprintf(logf, "=== chaostest: start %s\n", time.Now().Format(time.RFC3339Nano))
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		c.t.Fatalf("chaostest: start node %d: %v", i, err)
	}
	n.done, n.killed, n.paused = make(chan struct{}), false, false
	go c.wait(n, n.cmd, n.done, logf)
	if err := c.waitReady(i); err != nil {
		c.t.Fatalf("chaostest: node %d not ready: %v\n%s", i, err, tail(n.logPath))
	}
}

// wait is the waiter goroutine of one process: it records an exit nobody
// asked for. It ends when the process does (cleanup kills every process).
func (c *procCluster) wait(n *procNode, cmd *exec.Cmd, done chan struct{}, logf *os.File) {
	err := cmd.Wait()
	logf.Close()
	c.mu.Lock()
	n.exitErr = err
	switch {
	case n.killed:
	case n.fill != "":
		// Expected (DESIGN.md §3: a node that cannot apply halts rather
		// than diverge); freeDisk starts it again.
		c.note = append(c.note, fmt.Sprintf("node %d exited while its disk was full: %v", n.i, err))
	default:
		c.exits = append(c.exits, fmt.Sprintf("node %d exited by itself: %v (log %s)", n.i, err, n.logPath))
	}
	c.mu.Unlock()
	close(done)
}

func (c *procCluster) waitReady(i int) error {
	n := c.nodes[i]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		select {
		case <-n.done:
			return fmt.Errorf("process exited: %v", n.exitErr)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.httpAddr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
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

// problems returns the processes that exited without being killed; the
// harness reports them as violations (a crash of pgraft itself).
func (c *procCluster) problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.exits...)
}

func (c *procCluster) kill(i int) {
	n := c.nodes[i]
	if n.cmd == nil {
		return
	}
	c.mu.Lock()
	n.killed = true
	c.mu.Unlock()
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd, n.paused = nil, false
}

func (c *procCluster) crash(i int)   { c.kill(i) }
func (c *procCluster) restart(i int) { c.start(i) }

func (c *procCluster) pause(i int) {
	if n := c.nodes[i]; n.cmd != nil && !n.paused {
		n.cmd.Process.Signal(syscall.SIGSTOP)
		n.paused = true
	}
}

func (c *procCluster) resume(i int) {
	if n := c.nodes[i]; n.cmd != nil && n.paused {
		n.cmd.Process.Signal(syscall.SIGCONT)
		n.paused = false
	}
}

func (c *procCluster) cut(groups ...[]int) {
	if c.lab == nil {
		c.t.Fatalf("chaostest: no network namespaces: cannot cut %v", groups)
	}
	for g, a := range groups {
		for _, b := range groups[g+1:] {
			for _, x := range a {
				for _, y := range b {
					if err := c.lab.cut(x, y); err != nil {
						c.t.Fatalf("chaostest: cut %d-%d: %v", x, y, err)
					}
				}
			}
		}
	}
}

func (c *procCluster) heal() {
	if c.lab != nil {
		if err := c.lab.heal(); err != nil {
			c.t.Fatalf("chaostest: heal: %v", err)
		}
	}
}

// fillDisk fills node i's tmpfs: fallocate what is free, then write until
// ENOSPC for what fallocate's rounding left.
func (c *procCluster) fillDisk(i int) error {
	n := c.nodes[i]
	if !n.mounted {
		return errors.New("no tmpfs volume")
	}
	path := filepath.Join(n.dir, "chaos-fill")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	c.mu.Lock()
	n.fill = path
	c.mu.Unlock()
	var st syscall.Statfs_t
	if err := syscall.Statfs(n.dir, &st); err != nil {
		return err
	}
	free := int64(st.Bavail) * st.Bsize
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free); err != nil && !errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("fallocate %d bytes: %w", free, err)
	}
	f.Seek(0, 2)
	buf := make([]byte, 4096)
	for k := 0; k < 1<<16; k++ {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
	return errors.New("volume did not fill")
}

// freeDisk removes the fill. A node that stopped because it could not
// write (DESIGN.md §3: halting beats diverging) is started again.
func (c *procCluster) freeDisk(i int) {
	n := c.nodes[i]
	if n.fill == "" {
		return
	}
	os.Remove(n.fill)
	select {
	case <-n.done:
		n.cmd = nil
		c.start(i)
	default:
	}
	c.mu.Lock()
	n.fill = ""
	c.mu.Unlock()
}

func (c *procCluster) setClock(i int, offset time.Duration) {
	n := c.nodes[i]
	tmp := n.clockFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(offset.String()+"\n"), 0o644); err != nil {
		c.t.Fatalf("chaostest: %v", err)
	}
	if err := os.Rename(tmp, n.clockFile); err != nil {
		c.t.Fatalf("chaostest: %v", err)
	}
}

// leader asks every running, unpaused node whether it is in recovery (a
// follower is), with a short timeout; -1 when no node says it leads.
func (c *procCluster) leader() int {
	for i, n := range c.nodes {
		if n.cmd == nil || n.paused {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		conn, err := pgx.Connect(ctx, c.dsn(i))
		if err == nil {
			var standby bool
			err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby)
			conn.Close(context.Background())
			if err == nil && !standby {
				cancel()
				return i
			}
		}
		cancel()
	}
	return -1
}

// status is the part of GET /status read here.
type status struct {
	Role         string `json:"role"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
}

func (c *procCluster) status(ctx context.Context, i int) (status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.nodes[i].httpAddr+"/status", nil)
	if err != nil {
		return status{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return status{}, err
	}
	defer resp.Body.Close()
	var st status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return status{}, fmt.Errorf("decode /status: %w", err)
	}
	return st, nil
}

func (c *procCluster) state(ctx context.Context, i int) (uint64, string, error) {
	if c.nodes[i].cmd == nil {
		return 0, "", errors.New("not running")
	}
	before, err := c.status(ctx, i)
	if err != nil {
		return 0, "", err
	}
	sum, err := checksum(ctx, c.dsn(i))
	if err != nil {
		return 0, "", err
	}
	after, err := c.status(ctx, i)
	if err != nil {
		return 0, "", err
	}
	if before.AppliedIndex != after.AppliedIndex {
		return 0, "", fmt.Errorf("still applying (%d, then %d)", before.AppliedIndex, after.AppliedIndex)
	}
	return after.AppliedIndex, sum, nil
}

// settle waits until every node's applied index reaches the highest commit
// index any node reports.
func (c *procCluster) settle(ctx context.Context) error {
	for {
		var commit uint64
		applied := make([]uint64, len(c.nodes))
		var err error
		for i := range c.nodes {
			var st status
			if st, err = c.status(ctx, i); err != nil {
				break
			}
			commit, applied[i] = max(commit, st.CommitIndex), st.AppliedIndex
		}
		if err == nil && commit > 0 && minOf(applied) >= commit {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("settle: applied %v, commit %d: %w (last error %v)", applied, commit, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// close kills every process, unmounts the volumes and removes the network.
// It runs in t.Cleanup, also when the test failed half way.
func (c *procCluster) close() {
	if c.t.Failed() {
		c.dumpStacks()
	}
	for i := range c.nodes {
		c.kill(i)
	}
	if c.t.Failed() {
		c.keepLogs()
	}
	for _, n := range c.nodes {
		if n.mounted {
			if err := runCmd("umount", n.dir); err != nil {
				runCmd("umount", "-l", n.dir)
			}
		}
	}
	if c.lab != nil {
		c.lab.teardown()
	}
}

// dumpStacks makes every running node write its goroutines to its log
// (SIGQUIT) before a failed run's cleanup kills it: a hung node's stacks
// are the bug report.
func (c *procCluster) dumpStacks() {
	for i, n := range c.nodes {
		if !c.running(i) {
			continue
		}
		c.mu.Lock()
		n.killed = true
		c.mu.Unlock()
		n.cmd.Process.Signal(syscall.SIGCONT)
		n.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-n.done:
		case <-time.After(3 * time.Second):
		}
	}
}

// keepLogs copies the nodes' logs out of the test's temporary directory
// (removed after the test) when the run failed.
func (c *procCluster) keepLogs() {
	dir, err := os.MkdirTemp("", "pgraft-chaos-logs-")
	if err != nil {
		return
	}
	for _, n := range c.nodes {
		if b, err := os.ReadFile(n.logPath); err == nil {
			os.WriteFile(filepath.Join(dir, n.id+".log"), b, 0o644)
		}
		// The database files and the Raft log too, for a divergence.
		for _, f := range []string{"db.sqlite", "db.sqlite-wal"} {
			if b, err := os.ReadFile(filepath.Join(n.dir, f)); err == nil {
				os.WriteFile(filepath.Join(dir, n.id+"-"+f), b, 0o644)
			}
		}
		_ = exec.Command("cp", "-a", filepath.Join(n.dir, "raft"), filepath.Join(dir, n.id+"-raft")).Run()
	}
	c.t.Logf("chaostest: node logs and databases kept in %s", dir)
}

func checksum(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	var sum string
	if err := conn.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&sum); err != nil {
		return "", fmt.Errorf("pgraft_checksum: %w", err)
	}
	return sum, nil
}

func minOf(s []uint64) uint64 {
	m := s[0]
	for _, v := range s[1:] {
		m = min(m, v)
	}
	return m
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("chaostest: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// tail returns the end of a node's log, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
