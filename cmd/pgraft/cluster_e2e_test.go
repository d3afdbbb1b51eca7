package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/test/proccluster"
)

// clusterDeadline bounds each wait of the multi-process tests; it fires
// only on a hang.
const clusterDeadline = 60 * time.Second

// startCluster starts n pgraft processes on free ports, each in its own
// data dir, and stops the ones still running when the test ends (SIGTERM:
// each must exit cleanly).
func startCluster(t *testing.T, n int) *proccluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	return proccluster.Start(t, proccluster.Config{Binary: pgraft.Path(t), Nodes: n})
}

// failover kills the leader with SIGKILL and returns which node it was and
// the time from the kill to the first INSERT another node accepted (into
// table failover_probe, which must exist).
func failover(t *testing.T, c *proccluster.Cluster) (killed int, took time.Duration) {
	t.Helper()
	killed = c.WaitLeader()
	ctx, cancel := context.WithTimeout(context.Background(), clusterDeadline)
	defer cancel()
	var conns []*pgx.Conn
	defer func() {
		for _, conn := range conns {
			conn.Close(context.Background())
		}
	}()
	for i, n := range c.Nodes {
		if i == killed || !c.Running(i) {
			continue
		}
		conn, err := pgx.Connect(ctx, n.DSN())
		if err != nil {
			t.Fatalf("connect to node %d: %v", i, err)
		}
		conns = append(conns, conn)
	}
	start := time.Now()
	c.Kill(killed)
	for try := 0; ; try++ {
		for _, conn := range conns {
			actx, acancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := conn.Exec(actx, "INSERT INTO failover_probe (try) VALUES ($1)", try)
			acancel()
			if err == nil {
				return killed, time.Since(start)
			}
			if code := pgCode(err); code != "40001" && code != "40003" {
				t.Fatalf("probe write: %v", err)
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no node accepted a write after the leader was killed")
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
	setup, err := pgx.Connect(ctx, c.Nodes[c.WaitLeader()].DSN())
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
	c.RequireConverged()

	var dsns []string
	for _, n := range c.Nodes {
		dsns = append(dsns, n.DSN())
	}
	load := startLoad(dsns, 3)
	defer load.stop()
	load.wait(t, 300)
	killed, took := failover(t, c)
	mark := load.count()
	load.wait(t, mark+300)
	acked := load.stop()
	t.Logf("failover: kill -9 of the leader to the first accepted write through another node: %v (one trial; %d rows acknowledged)", took, len(acked))

	c.RequireConverged()
	for i, n := range c.Nodes {
		if i != killed {
			checkAcked(t, n.DSN(), acked, fmt.Sprintf("survivor node %d", i))
		}
	}
	c.Start(killed)
	sum := c.RequireConverged()
	checkAcked(t, c.Nodes[killed].DSN(), acked, "restarted node")

	out, err := exec.Command(pgraft.Path(t), "status", "--json", "--http-addr", c.Nodes[killed].HTTPAddr).CombinedOutput()
	if err != nil {
		t.Fatalf("pgraft status --json: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		if !strings.Contains(string(out), strconv.Quote(n.ID)) { // a JSON string, not a substring of another
			t.Errorf("pgraft status --json does not mention %s:\n%s", n.ID, out)
		}
	}
	table, err := exec.Command(pgraft.Path(t), "status", "--http-addr", c.Nodes[killed].HTTPAddr).CombinedOutput()
	if err != nil {
		t.Fatalf("pgraft status: %v\n%s", err, table)
	}
	if got := strings.Count(string(table), " ok\n"); got != len(c.Nodes) {
		t.Errorf("pgraft status shows %d healthy members, want %d:\n%s", got, len(c.Nodes), table)
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
