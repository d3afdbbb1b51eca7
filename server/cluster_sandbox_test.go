package server_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestClusterSandbox sends what once broke or split a cluster: writes to
// pgraft's own table (every node then panicked in apply on every restart),
// reads of node-local state (each node stored its own file path) and of
// SQLite's schema, and a time-zone conversion in a write. Each is refused
// with PostgreSQL's SQLSTATE, through both protocols, and afterwards every
// node answers, restarts, and agrees on the checksum.
func TestClusterSandbox(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, `CREATE TABLE div (a text, b text)`)
	tests := []struct{ name, sql, code string }{
		{"drop meta", `DROP TABLE _pgraft_meta`, "42P01"},
		{"update meta", `UPDATE _pgraft_meta SET value = 0`, "42P01"},
		{"node's file path", `INSERT INTO div SELECT 'x', file FROM pragma_database_list WHERE name = 'main'`, "42P01"},
		{"page count", `INSERT INTO div SELECT 'x', page_count FROM pragma_page_count`, "42P01"},
		{"read the schema", `SELECT * FROM sqlite_master`, "42P01"},
		{"build", `SELECT sqlite_version()`, "42883"},
		{"utc in a write", `INSERT INTO div VALUES (datetime('2024-06-01 12:00:00', 'utc'), 'x')`, "0A000"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	modes := []struct {
		name string
		mode pgx.QueryExecMode
	}{{"simple", pgx.QueryExecModeSimpleProtocol}, {"extended", pgx.QueryExecModeCacheStatement}}
	for _, m := range modes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				leader := connect(t, c.Leader())
				_, err := leader.Exec(ctx, tc.sql, m.mode)
				wantCode(t, err, tc.code)
			})
		}
	}
	t.Run("in a transaction", func(t *testing.T) {
		leader := connect(t, c.Leader())
		mustExec(t, leader, `BEGIN`)
		mustExec(t, leader, `INSERT INTO div VALUES ('kept', 'y')`)
		_, err := leader.Exec(ctx, `UPDATE _pgraft_meta SET value = 0`)
		wantCode(t, err, "42P01")
		mustExec(t, leader, `ROLLBACK`)
	})
	// An autocommit write is pre-run on the leader before it is logged: a
	// refused one never reaches the log (sqlengine's
	// TestAuthorizerRefusesWrites applies refused entries through the log,
	// the same on every node).
	before := c.Leader().Status(ctx, false).AppliedIndex
	_, err := connect(t, c.Leader()).Exec(ctx, `DROP TABLE _pgraft_meta`, pgx.QueryExecModeSimpleProtocol)
	wantCode(t, err, "42P01")
	if after := c.Leader().Status(ctx, false).AppliedIndex; after != before {
		t.Fatalf("the refused DROP TABLE reached the log (index %d, then %d)", before, after)
	}
	c.RequireConverged() // a follower that lags would not have div yet
	requireNodesAnswer(t, c, 0)

	// A new node applies the whole log, refused entries included; the
	// others restart, which they could not once _pgraft_meta was gone.
	c.AddNode()
	follower := (c.LeaderIndex() + 1) % 3
	c.Stop(follower)
	c.Restart(follower)
	old := c.LeaderIndex()
	c.Crash(old)
	leaderExec(t, c, `INSERT INTO div VALUES ('after', 'restart')`)
	c.Restart(old)
	c.RequireConverged()
	requireNodesAnswer(t, c, 1)
}

// requireNodesAnswer checks that every node answers queries, refuses to show
// SQLite's schema, and has rows rows in div.
func requireNodesAnswer(t *testing.T, c *servertest.Cluster, rows int64) {
	t.Helper()
	for i, n := range c.Nodes {
		conn := connect(t, n)
		if got := count(t, conn, `SELECT 1`); got != 1 {
			t.Fatalf("node %d: SELECT 1 = %d", i, got)
		}
		_, err := conn.Exec(context.Background(), `SELECT * FROM sqlite_master`)
		wantCode(t, err, "42P01")
		if got := count(t, conn, `SELECT count(*) FROM div`); got != rows {
			t.Errorf("node %d: %d rows in div, want %d", i, got, rows)
		}
	}
}
