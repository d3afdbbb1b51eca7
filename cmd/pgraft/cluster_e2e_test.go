package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// clusterDeadline bounds each wait of the multi-process tests; it fires
// only on a hang.
const clusterDeadline = 60 * time.Second

// procCluster is three (or more) `pgraft serve` processes forming one
// cluster: node 0 bootstraps, the others start with --join.
type procCluster struct {
	t     *testing.T
	nodes []*testNode
	ids   []string
	extra []string // flags every node gets
}

// startCluster starts n pgraft processes on free ports, each in its own
// data dir, and stops the ones still running when the test ends.
func startCluster(t *testing.T, n int, extra ...string) *procCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	c := &procCluster{t: t, extra: extra}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.Stop()
		}
	})
	for i := 0; i < n; i++ {
		node := &testNode{t: t, DataDir: filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i)), PGHost: "127.0.0.1"}
		node.PGPort = strconv.Itoa(freePort(t))
		node.HTTPAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
		node.raftAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
		c.nodes = append(c.nodes, node)
		c.ids = append(c.ids, fmt.Sprintf("node%d", i+1))
		c.start(i)
	}
	return c
}

// start runs node i's process, with --join naming every other running node
// (none for node 0's first start: it bootstraps). It returns once the node answers SELECT 1,
// which a joining node does only after it has joined.
func (c *procCluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	var err error
	if n.log, err = os.CreateTemp(c.t.TempDir(), fmt.Sprintf("pgraft-node%d-*.log", i)); err != nil {
		c.t.Fatal(err)
	}
	args := []string{"serve", "--data-dir", n.DataDir, "--pg-addr", n.PGAddr(), "--http-addr", n.HTTPAddr,
		"--raft-addr", n.raftAddr, "--node-id", c.ids[i]}
	var join []string
	for j, o := range c.nodes {
		if j != i && o.cmd != nil {
			join = append(join, o.raftAddr)
		}
	}
	if len(join) > 0 {
		args = append(args, "--join", strings.Join(join, ","))
	}
	n.cmd = exec.Command(binPath, append(args, c.extra...)...)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		c.t.Fatalf("start pgraft: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterDeadline)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, n.DSN())
		if err == nil {
			_, err = conn.Exec(ctx, "SELECT 1")
			conn.Close(ctx)
			if err == nil {
				return
			}
		}
		if ctx.Err() != nil {
			c.t.Fatalf("node %d did not become ready: %v\n%s", i, err, n.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpStatus is the part of GET /status these tests read.
type httpStatus struct {
	NodeID       string `json:"node_id"`
	Role         string `json:"role"`
	Leader       string `json:"leader"`
	AppliedIndex uint64 `json:"applied_index"`
}

func (c *procCluster) status(i int) (httpStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.nodes[i].HTTPAddr+"/status", nil)
	if err != nil {
		return httpStatus{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpStatus{}, err
	}
	defer resp.Body.Close()
	var st httpStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return httpStatus{}, fmt.Errorf("decode /status of node %d: %w", i, err)
	}
	return st, nil
}

// leader waits until a running node reports itself leader.
func (c *procCluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(clusterDeadline)
	for {
		for i, n := range c.nodes {
			if n.cmd == nil {
				continue
			}
			if st, err := c.status(i); err == nil && st.Role == "Leader" {
				return i
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatal("no leader among the running nodes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requireConverged waits until every running node reports the same data
// applied index and the same pgraft_checksum() (read between two equal
// index readings, so no entry was applied meanwhile), and returns it.
func (c *procCluster) requireConverged() string {
	c.t.Helper()
	deadline := time.Now().Add(clusterDeadline)
	var last string
	for {
		sum, err := c.convergedOnce()
		if err == nil {
			return sum
		}
		last = err.Error()
		if time.Now().After(deadline) {
			c.t.Fatalf("nodes did not converge: %s", last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *procCluster) convergedOnce() (string, error) {
	var sums []string
	var index []uint64
	for i, n := range c.nodes {
		if n.cmd == nil {
			continue
		}
		before, err := c.status(i)
		if err != nil {
			return "", err
		}
		sum, err := checksum(n.DSN())
		if err != nil {
			return "", err
		}
		after, err := c.status(i)
		if err != nil {
			return "", err
		}
		if before.AppliedIndex != after.AppliedIndex {
			return "", fmt.Errorf("node %d still applying", i)
		}
		sums, index = append(sums, sum), append(index, after.AppliedIndex)
	}
	for k := range sums {
		if sums[k] != sums[0] || index[k] != index[0] {
			return "", fmt.Errorf("applied indexes %v, checksums %v", index, sums)
		}
	}
	return sums[0], nil
}

func checksum(dsn string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var sum string
	err = conn.QueryRow(ctx, "SELECT pgraft_checksum()").Scan(&sum)
	return sum, err
}

// failover kills the leader with SIGKILL and returns which node it was and
// the time from the kill to the first INSERT another node accepted (into
// table failover_probe, which must exist).
func (c *procCluster) failover() (killed int, took time.Duration) {
	c.t.Helper()
	killed = c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), clusterDeadline)
	defer cancel()
	var conns []*pgx.Conn
	defer func() {
		for _, conn := range conns {
			conn.Close(context.Background())
		}
	}()
	for i, n := range c.nodes {
		if i == killed || n.cmd == nil {
			continue
		}
		conn, err := pgx.Connect(ctx, n.DSN())
		if err != nil {
			c.t.Fatalf("connect to node %d: %v", i, err)
		}
		conns = append(conns, conn)
	}
	start := time.Now()
	c.nodes[killed].Kill()
	for try := 0; ; try++ {
		for _, conn := range conns {
			actx, acancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := conn.Exec(actx, "INSERT INTO failover_probe (try) VALUES ($1)", try)
			acancel()
			if err == nil {
				return killed, time.Since(start)
			}
			if code := pgCode(err); code != "40001" && code != "40003" {
				c.t.Fatalf("probe write: %v", err)
			}
		}
		if ctx.Err() != nil {
			c.t.Fatal("no node accepted a write after the leader was killed")
		}
		time.Sleep(2 * time.Millisecond) // polling: bounds the resolution
	}
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestThreeProcessesLeaderKilledUnderLoad runs three pgraft processes,
// kills the leader with SIGKILL while clients insert through any node that
// takes writes, and checks that every acknowledged row is on both survivors
// and, after it restarts with the same flags, on the killed node; all three
// end with the same checksum. It logs the failover time of this one trial.
func TestThreeProcessesLeaderKilledUnderLoad(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, c.nodes[c.leader()].DSN())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`CREATE TABLE acked (id bigint PRIMARY KEY, worker int NOT NULL)`,
		`CREATE TABLE failover_probe (id serial PRIMARY KEY, try int)`} {
		if _, err := setup.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	setup.Close(ctx)
	// Clients write to followers too (40001 sends them on); a follower that
	// has not applied the CREATE TABLE answers 42P01 instead, so every node
	// must know the tables first.
	c.requireConverged()

	var dsns []string
	for _, n := range c.nodes {
		dsns = append(dsns, n.DSN())
	}
	load := startLoad(dsns, 3)
	defer load.stop()
	load.wait(t, 300)
	killed, took := c.failover()
	mark := load.count()
	load.wait(t, mark+300)
	acked := load.stop()
	t.Logf("failover: kill -9 of the leader to the first accepted write through another node: %v (one trial; %d rows acknowledged)", took, len(acked))

	c.requireConverged()
	for i, n := range c.nodes {
		if i != killed {
			checkAcked(t, n.DSN(), acked, fmt.Sprintf("survivor node %d", i))
		}
	}
	c.start(killed)
	sum := c.requireConverged()
	checkAcked(t, c.nodes[killed].DSN(), acked, "restarted node")

	out, err := exec.Command(binPath, "status", "--http-addr", c.nodes[killed].HTTPAddr).CombinedOutput()
	if err != nil {
		t.Fatalf("pgraft status: %v\n%s", err, out)
	}
	for _, id := range c.ids {
		if !strings.Contains(string(out), id) {
			t.Errorf("pgraft status does not mention %s:\n%s", id, out)
		}
	}
	t.Logf("converged, checksum %s", sum)
}

// load is clients inserting unique ids through whichever node accepts
// them; a failed insert is never retried with the same id (its outcome may
// be unknown), so acked holds only acknowledged ids.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  []int64
	err    error
	once   sync.Once
	result []int64
}

func startLoad(dsns []string, workers int) *load {
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterDeadline)
	l := &load{cancel: cancel}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.work(ctx, dsns, w)
		}()
	}
	return l
}

func (l *load) work(ctx context.Context, dsns []string, w int) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	target := w % len(dsns)
	for seq := int64(0); ctx.Err() == nil; seq++ {
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			c, err := pgx.Connect(cctx, dsns[target])
			cancel()
			if err != nil {
				target = (target + 1) % len(dsns)
				time.Sleep(5 * time.Millisecond) // the node is down: poll the next
				continue
			}
			conn = c
		}
		id := int64(w)<<32 | seq
		_, err := conn.Exec(ctx, "INSERT INTO acked (id, worker) VALUES ($1, $2)", id, w)
		switch code := pgCode(err); {
		case err == nil:
			l.mu.Lock()
			l.acked = append(l.acked, id)
			l.mu.Unlock()
		case ctx.Err() != nil:
		case code != "" && code != "40001" && code != "40003" && code != "57P01":
			l.mu.Lock()
			l.err = errors.Join(l.err, fmt.Errorf("worker %d: %w", w, err))
			l.mu.Unlock()
			return
		default: // not the leader, or the node died: try the next one
			conn.Close(context.Background())
			conn = nil
			target = (target + 1) % len(dsns)
		}
	}
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *load) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(clusterDeadline)
	for l.count() < n {
		l.mu.Lock()
		err := l.err
		l.mu.Unlock()
		if err != nil {
			t.Fatalf("insert load: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("insert load: %d rows acknowledged, waited for %d", l.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the clients and returns the acknowledged ids. Idempotent.
func (l *load) stop() []int64 {
	l.once.Do(func() {
		l.cancel()
		l.wg.Wait()
		l.result = slices.Clone(l.acked)
	})
	return l.result
}

func checkAcked(t *testing.T, dsn string, acked []int64, who string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT id FROM acked")
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	missing := 0
	for _, id := range acked {
		if !have[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged rows missing (%d present)", who, missing, len(acked), len(ids))
	}
}
