package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// poison_test.go: statements that used to enter the log and then crash,
// stall or split every node (issue 13). Each leaves every node serving and
// equal, with PostgreSQL's answer.

// requireServing checks that every running node answers SELECT 1 within a
// second and that all hold the same data.
func requireServing(t *testing.T, c *servertest.Cluster) {
	t.Helper()
	for i, n := range c.Nodes {
		if !c.Running(i) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, n.DSN())
		if err == nil {
			var one int
			err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
			conn.Close(context.Background())
		}
		cancel()
		if err != nil {
			t.Fatalf("node %d does not answer SELECT 1 within a second: %v", i, err)
		}
	}
	c.RequireConverged()
}

// TestRunawayWriteUnderStatementTimeoutNeverEntersTheLog: a write that
// would run for ever, cut by statement_timeout, answers 57014 and writes
// nothing — autocommit and inside a transaction — and no node keeps
// running it.
func TestRunawayWriteUnderStatementTimeoutNeverEntersTheLog(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE t (n bigint)`)
	conn := connect(t, c.Leader())
	mustExec(t, conn, `SET statement_timeout = '1s'`)
	const runaway = `INSERT INTO t SELECT count(*) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r) s`
	ctx := context.Background()
	_, err := conn.Exec(ctx, runaway)
	wantCode(t, err, "57014")

	mustExec(t, conn, `BEGIN`)
	_, err = conn.Exec(ctx, runaway)
	wantCode(t, err, "57014")
	_, err = conn.Exec(ctx, `INSERT INTO t VALUES (1)`)
	wantCode(t, err, "25P02")
	if tag := mustExec(t, conn, `COMMIT`); tag.String() != "ROLLBACK" {
		t.Fatalf("COMMIT of the failed block = %q, want ROLLBACK", tag)
	}

	mustExec(t, conn, `SET statement_timeout = 0`)
	start := time.Now()
	mustExec(t, conn, `INSERT INTO t VALUES (2)`)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a write after the runaway ones took %v: apply is busy with them", d)
	}
	if n := count(t, conn, `SELECT count(*) FROM t`); n != 1 {
		t.Fatalf("%d rows, want only the last insert's", n)
	}
	requireServing(t, c)
}

// TestWriteOnFullDiskAnswers53100: a leader whose disk has less free space
// than a write needs refuses it with PostgreSQL's 53100 before anything is
// logged, and goes on serving reads (it used to exit in the Raft log's
// append, the client seeing only a closed connection).
func TestWriteOnFullDiskAnswers53100(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3, func(cfg *server.Config) { cfg.MinFreeDisk = 1 << 62 })
	for _, f := range c.Followers() { // forwarded to the leader, refused there
		_, err := connect(t, f).Exec(context.Background(), `CREATE TABLE t (a int)`)
		wantCode(t, err, "53100")
	}
	conn := connect(t, c.Leader())
	_, err := conn.Exec(context.Background(), `CREATE TABLE t (a int)`)
	wantCode(t, err, "53100")
	mustExec(t, conn, `BEGIN`)
	_, err = conn.Exec(context.Background(), `CREATE TABLE t (a int)`)
	wantCode(t, err, "53100")
	mustExec(t, conn, `ROLLBACK`)
	if n := count(t, conn, `SELECT 1`); n != 1 {
		t.Fatalf("SELECT 1 = %d", n)
	}
	requireServing(t, c)
}

// TestApplyFaultKeepsNodeUp: a node that cannot apply the log (a full disk
// under apply, here injected) stays up: it reports not ready with the
// reason, refuses reads that must wait for its apply with 53100, serves
// local reads; a faulted leader hands leadership over so that the cluster
// goes on writing; and the node catches up by itself once the fault is gone.
func TestApplyFaultKeepsNodeUp(t *testing.T) {
	skipShortCluster(t)
	var faulty atomic.Value // node ID whose apply fails
	faulty.Store("")
	c := servertest.NewCluster(t, 3, func(cfg *server.Config) {
		id := cfg.NodeID
		cfg.ApplyFaultInjector = func(uint64) error {
			if faulty.Load() == id {
				return sqlite3.Error{Code: sqlite3.ErrFull}
			}
			return nil
		}
	})
	leaderExec(t, c, `CREATE TABLE t (a int)`)
	old := c.LeaderIndex()
	faulty.Store(c.ID(old))
	// The leader's own apply fails: the write is not acknowledged by it,
	// and it steps aside.
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	conn := connect(t, c.Nodes[old])
	_, err := conn.Exec(ctx, `INSERT INTO t VALUES (1)`)
	wantCode(t, err, "40003") // committed or not: this node cannot tell
	deadline := time.Now().Add(clusterWait)
	for c.LeaderIndex() == old {
		if time.Now().After(deadline) {
			t.Fatal("the faulted leader kept leadership")
		}
		time.Sleep(50 * time.Millisecond)
	}
	leaderExec(t, c, `INSERT INTO t VALUES (2)`) // the cluster writes on

	// The faulted node: up, not ready, its waits fail fast, local reads work.
	resp, err := http.Get("http://" + c.Nodes[old].HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "cannot apply") {
		t.Fatalf("/readyz of the faulted node = %d %q, want 503 naming the fault", resp.StatusCode, body)
	}
	f := connect(t, c.Nodes[old])
	mustExec(t, f, `SET pgraft.read_consistency = 'linearizable'`)
	_, err = f.Exec(ctx, `SELECT count(*) FROM t`)
	wantCode(t, err, "53100")
	mustExec(t, f, `SET pgraft.read_consistency = 'local'`)
	count(t, f, `SELECT count(*) FROM t`)

	faulty.Store("") // space freed
	c.RequireConverged()
	if n := count(t, connect(t, c.Nodes[old]), `SELECT count(*) FROM t WHERE a = 2`); n != 1 {
		t.Fatalf("the recovered node has %d rows of the write made during its fault, want 1", n)
	}
	requireServing(t, c)
}
