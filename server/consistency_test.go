package server_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server"
	"github.com/pgraft/pgraft/server/servertest"
)

// token runs SELECT pgraft_commit_index() on c.
func token(t *testing.T, c *pgx.Conn, mode ...any) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), "SELECT pgraft_commit_index()", mode...).Scan(&n); err != nil {
		t.Fatalf("SELECT pgraft_commit_index(): %v", err)
	}
	return n
}

// TestCommitIndexToken: pgraft_commit_index() is an int8 that moves past a
// session's write, a session that wrote nothing gets the node's, and a
// session waiting for it with pgraft.min_index sees the write.
func TestCommitIndexToken(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	before := token(t, c)
	if before <= 0 {
		t.Fatalf("token before any write = %d, want > 0", before)
	}
	mustExec(t, c, `CREATE TABLE tok (id int PRIMARY KEY)`)
	mustExec(t, c, `INSERT INTO tok VALUES (1)`)
	after := token(t, c, pgx.QueryExecModeSimpleProtocol)
	if after <= before {
		t.Fatalf("token after writes = %d, not past %d", after, before)
	}
	other := connect(t, n)
	if got := token(t, other); got < after {
		t.Fatalf("a session that wrote nothing got token %d, below the node's %d", got, after)
	}
	mustExec(t, other, `SET pgraft.min_index = `+strconv.FormatInt(after, 10))
	if got := count(t, other, `SELECT count(*) FROM tok`); got != 1 {
		t.Fatalf("count with min_index = %d", got)
	}
	rows, err := c.Query(context.Background(), "SELECT pgraft_commit_index()")
	if err != nil {
		t.Fatal(err)
	}
	oid := rows.FieldDescriptions()[0].DataTypeOID
	rows.Close()
	if oid != 20 {
		t.Errorf("pgraft_commit_index() column OID %d, want 20 (int8)", oid)
	}
	_, err = c.Exec(context.Background(), `SELECT pgraft_commit_index() + 1`)
	wantCode(t, err, "0A000")
	_, err = c.Exec(context.Background(), `SET pgraft.min_index = 'x'`)
	wantCode(t, err, "22023")
}

// TestLinearizableAndMaxLagSingleNode: on a leader every level reads, and
// max_lag never refuses (a leader does not lag).
func TestLinearizableAndMaxLagSingleNode(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	mustExec(t, c, `CREATE TABLE lin (id int)`)
	mustExec(t, c, `SET pgraft.max_lag = '1ms'`)
	for _, level := range []string{"local", "session", "linearizable"} {
		mustExec(t, c, `SET pgraft.read_consistency = `+level)
		mustExec(t, c, `INSERT INTO lin VALUES (1)`)
		if got := count(t, c, `SELECT count(*) FROM lin`); got == 0 {
			t.Fatalf("%s: no rows", level)
		}
	}
	// A snapshot transaction waits at its first read too.
	mustExec(t, c, `BEGIN ISOLATION LEVEL REPEATABLE READ`)
	if got := count(t, c, `SELECT count(*) FROM lin`); got != 3 {
		t.Fatalf("repeatable read, linearizable: %d rows, want 3", got)
	}
	mustExec(t, c, `COMMIT`)
}

// TestReadConsistencyOnLaggingFollower cuts a follower off while the
// majority commits a row: local reads there are stale, reads that must see
// the row (min_index, linearizable) wait instead of answering stale, and
// max_lag refuses local reads with 40001. After healing, the waits are met.
func TestReadConsistencyOnLaggingFollower(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE lag (id int PRIMARY KEY)`)
	c.RequireConverged()
	f := (c.LeaderIndex() + 1) % 3
	fc := connect(t, c.Nodes[f])
	mustExec(t, fc, `SET statement_timeout = '1s'`)
	c.Isolate(f)
	t.Cleanup(c.Heal)

	leaderExec(t, c, `INSERT INTO lag VALUES (1)`)
	tok := token(t, connect(t, c.Leader()))

	mustExec(t, fc, `SET pgraft.read_consistency = local`)
	if got := count(t, fc, `SELECT count(*) FROM lag`); got != 0 {
		t.Fatalf("isolated follower, local: %d rows; the test needs it to lag", got)
	}
	mustExec(t, fc, `SET pgraft.min_index = `+strconv.FormatInt(tok, 10))
	_, err := fc.Exec(context.Background(), `SELECT count(*) FROM lag`)
	wantCode(t, err, "57014")
	mustExec(t, fc, `RESET pgraft.min_index`)

	mustExec(t, fc, `SET pgraft.read_consistency = linearizable`)
	var rows int64
	err = fc.QueryRow(context.Background(), `SELECT count(*) FROM lag`).Scan(&rows)
	if code := sqlstate(err); code != "57014" && code != "40001" {
		t.Fatalf("isolated follower, linearizable: %d rows, err %v; want 57014 or 40001, never a stale answer", rows, err)
	}

	mustExec(t, fc, `SET pgraft.read_consistency = session`)
	mustExec(t, fc, `SET pgraft.max_lag = '200ms'`)
	pe := waitLagError(t, fc)
	if !strings.Contains(pe.Message, "pgraft.max_lag") || pe.Hint == "" || pe.Detail == "" {
		t.Errorf("lag error lacks message, detail or hint: %+v", pe)
	}

	c.Heal()
	mustExec(t, fc, `SET statement_timeout = '30s'`)
	mustExec(t, fc, `SET pgraft.max_lag = 0`)
	mustExec(t, fc, `SET pgraft.min_index = `+strconv.FormatInt(tok, 10))
	if got := count(t, fc, `SELECT count(*) FROM lag`); got != 1 {
		t.Fatalf("healed follower with min_index: %d rows, want 1", got)
	}
	mustExec(t, fc, `RESET pgraft.min_index`)
	mustExec(t, fc, `SET pgraft.read_consistency = linearizable`)
	if got := retryCount(t, fc, `SELECT count(*) FROM lag`); got != 1 {
		t.Fatalf("healed follower, linearizable: %d rows, want 1", got)
	}
	mustExec(t, fc, `SET pgraft.read_consistency = local`)
	mustExec(t, fc, `SET pgraft.max_lag = '10s'`)
	if got := retryCount(t, fc, `SELECT count(*) FROM lag`); got != 1 {
		t.Fatalf("healed follower, local within max_lag: %d rows, want 1", got)
	}
}

// waitLagError polls a read until max_lag refuses it: the follower's last
// contact must first age past the bound. Bounded by clusterWait.
func waitLagError(t *testing.T, c *pgx.Conn) *pgconn.PgError {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		_, err := c.Exec(context.Background(), `SELECT count(*) FROM lag`)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40001" {
			return pe
		}
		if err != nil && sqlstate(err) != "57014" {
			t.Fatalf("read on a lagging follower with max_lag: %v, want 40001", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("max_lag never refused a read on an isolated follower (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond) // a poll: waiting for time to pass
	}
}

// retryCount runs a count query, retrying 40001 (leadership moving after a
// partition heals) within clusterWait.
func retryCount(t *testing.T, c *pgx.Conn, sql string) int64 {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		var n int64
		err := c.QueryRow(context.Background(), sql).Scan(&n)
		if err == nil {
			return n
		}
		if sqlstate(err) != "40001" || time.Now().After(deadline) {
			t.Fatalf("%s: %v", sql, err)
		}
		time.Sleep(50 * time.Millisecond) // a poll: an election is running
	}
}

// TestLinearizableFollowerReadsSeeAcknowledgedWrites: right after each
// acknowledged write on the leader, a linearizable read on each follower
// sees it, with no wait for replication in the test; so does every node
// after the leader crashes.
func TestLinearizableFollowerReadsSeeAcknowledgedWrites(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE acked (id int PRIMARY KEY)`)
	lc := connect(t, c.Leader())
	var fcs []*pgx.Conn
	for _, f := range c.Followers() {
		fc := connect(t, f)
		mustExec(t, fc, `SET pgraft.read_consistency = linearizable`)
		mustExec(t, fc, `SET statement_timeout = '30s'`)
		fcs = append(fcs, fc)
	}
	const writes = 20
	for i := 1; i <= writes; i++ {
		mustExec(t, lc, `INSERT INTO acked VALUES ($1)`, i)
		for k, fc := range fcs {
			if got := count(t, fc, `SELECT count(*) FROM acked`); got != int64(i) {
				t.Fatalf("follower %d after %d acknowledged writes: %d rows", k, i, got)
			}
		}
	}
	c.Crash(c.LeaderIndex())
	for k, fc := range fcs {
		if got := retryCount(t, fc, `SELECT count(*) FROM acked`); got != writes {
			t.Fatalf("survivor %d after failover, linearizable: %d rows, want %d", k, got, writes)
		}
	}
}

// TestFollowerTranslatesAgainstTheSchemaItWaitsFor: a read on a follower
// that lags is translated only after the wait its consistency level
// promises, so a table another session just created on the leader is there
// when the extended protocol's Parse translates and describes the read
// (before, Parse used the follower's older schema and failed with 42P01,
// and only Execute waited). Followers apply each batch 30 ms late, so every
// read here meets a follower that has not yet applied the table.
func TestFollowerTranslatesAgainstTheSchemaItWaitsFor(t *testing.T) {
	skipShortCluster(t)
	var leaderID atomic.Value
	leaderID.Store("")
	c := servertest.NewCluster(t, 3, func(cfg *server.Config) {
		id := cfg.NodeID
		cfg.ApplyFaultInjector = func(uint64) error {
			if id != leaderID.Load() {
				time.Sleep(30 * time.Millisecond) // a slow follower: apply lags the leader
			}
			return nil
		}
	})
	leaderID.Store(c.ID(c.LeaderIndex()))
	lc := connect(t, c.Leader())
	f := c.Followers()[0]
	ctx := context.Background()
	for _, tc := range []struct{ name, set string }{
		{"linearizable", `SET pgraft.read_consistency = linearizable`},
		{"min_index", `SET pgraft.read_consistency = local`}, // plus the leader session's token
	} {
		fc := connect(t, f) // extended protocol, statements prepared: Parse, Describe, Bind, Execute
		mustExec(t, fc, tc.set)
		mustExec(t, fc, `SET statement_timeout = '30s'`)
		for i := range 10 {
			table := fmt.Sprintf("xt_%s_%d", tc.name, i)
			mustExec(t, lc, `CREATE TABLE `+table+` (a int)`)
			mustExec(t, lc, `INSERT INTO `+table+` VALUES (1)`)
			if tc.name == "min_index" {
				mustExec(t, fc, `SET pgraft.min_index = `+strconv.FormatInt(token(t, lc), 10))
			}
			var n int64
			if err := fc.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE a = $1`, 1).Scan(&n); err != nil {
				t.Fatalf("%s: read %d of a table created on the leader, on a follower: %v", tc.name, i, err)
			}
			if n != 1 {
				t.Fatalf("%s: read %d: count %d, want 1", tc.name, i, n)
			}
		}
	}
	// The session's own schema change, forwarded to the leader, at the
	// level that waits for nothing else.
	fc := connect(t, f)
	mustExec(t, fc, `SET pgraft.read_consistency = local`)
	for i := range 5 {
		table := fmt.Sprintf("xt_own_%d", i)
		mustExec(t, fc, `CREATE TABLE `+table+` (a int)`)
		var n int64
		if err := fc.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE a = $1`, 1).Scan(&n); err != nil {
			t.Fatalf("own table %d right after creating it through a follower: %v", i, err)
		}
	}
}
