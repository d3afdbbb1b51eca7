package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/server/servertest"
)

// multiHostDSN lists the nodes' PostgreSQL addresses in the given order, the
// way pgx and libpq take several hosts, with target_session_attrs.
func multiHostDSN(nodes []*servertest.Node, attrs string) string {
	hosts := make([]string, len(nodes))
	for i, n := range nodes {
		hosts[i] = n.PGAddr()
	}
	return "postgres://postgres@" + strings.Join(hosts, ",") +
		"/postgres?sslmode=disable&connect_timeout=10&target_session_attrs=" + attrs
}

// TestPgxTargetSessionAttrs: pgx's multi-host target_session_attrs picks
// the right node with the wrong kind listed first (pgx asks SHOW
// transaction_read_only or pg_is_in_recovery(); it ignores ParameterStatus).
func TestPgxTargetSessionAttrs(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	c.RequireConverged()
	leader, followers := c.Leader(), c.Followers()
	leaderFirst := []*servertest.Node{leader, followers[0], followers[1]}
	followerFirst := []*servertest.Node{followers[0], leader, followers[1]}
	tests := []struct {
		attrs      string
		order      []*servertest.Node
		wantLeader bool
	}{
		{"read-write", followerFirst, true},
		{"primary", followerFirst, true},
		{"read-only", leaderFirst, false},
		{"standby", leaderFirst, false},
		{"prefer-standby", leaderFirst, false},
		{"prefer-standby", []*servertest.Node{leader}, true}, // nothing better: the leader
		{"any", followerFirst, false},
		{"any", leaderFirst, true},
	}
	for _, tc := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
		conn, err := pgx.Connect(ctx, multiHostDSN(tc.order, tc.attrs))
		if err != nil {
			cancel()
			t.Fatalf("%s: connect: %v", tc.attrs, err)
		}
		remote := conn.PgConn().Conn().RemoteAddr().String()
		var ro string
		err = conn.QueryRow(ctx, "SHOW transaction_read_only").Scan(&ro)
		conn.Close(context.Background())
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tc.attrs, err)
		}
		if gotLeader := remote == leader.PGAddr(); gotLeader != tc.wantLeader || (ro == "off") != tc.wantLeader {
			t.Errorf("target_session_attrs=%s (first %s): connected to %s (leader %s), transaction_read_only=%s; want leader=%v",
				tc.attrs, tc.order[0].PGAddr(), remote, leader.PGAddr(), ro, tc.wantLeader)
		}
	}
}

// roleReport is what one session says about its node's role.
type roleReport struct {
	hotStandby, defaultRO string // ParameterStatus after the last ReadyForQuery
	showRO, inRecovery    string // SHOW transaction_read_only, SELECT pg_is_in_recovery()
}

func reportRole(t *testing.T, conn *pgconn.PgConn) roleReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	res, err := conn.Exec(ctx, "SHOW transaction_read_only; SELECT pg_catalog.pg_is_in_recovery()").ReadAll()
	if err != nil {
		t.Fatalf("role queries: %v", err)
	}
	if len(res) != 2 || len(res[0].Rows) != 1 || len(res[1].Rows) != 1 {
		t.Fatalf("role queries: unexpected results %+v", res)
	}
	return roleReport{
		hotStandby: conn.ParameterStatus("in_hot_standby"),
		defaultRO:  conn.ParameterStatus("default_transaction_read_only"),
		showRO:     string(res[0].Rows[0][0]),
		inRecovery: string(res[1].Rows[0][0]),
	}
}

func wantRole(leader bool) roleReport {
	if leader {
		return roleReport{hotStandby: "off", defaultRO: "off", showRO: "off", inRecovery: "f"}
	}
	return roleReport{hotStandby: "on", defaultRO: "on", showRO: "on", inRecovery: "t"}
}

// TestOpenSessionsSeeLeadershipMove: sessions opened before leadership
// moves report the new role of their node (ParameterStatus at the next
// ReadyForQuery, SHOW, pg_is_in_recovery()), the old leader's included.
func TestOpenSessionsSeeLeadershipMove(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	c.RequireConverged()
	old := c.LeaderIndex()
	conns := make([]*pgconn.PgConn, 3)
	for i, n := range c.Nodes {
		ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
		conn, err := pgconn.Connect(ctx, n.DSN())
		cancel()
		if err != nil {
			t.Fatalf("connect node %d: %v", i, err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		conns[i] = conn
		if got, want := reportRole(t, conn), wantRole(i == old); got != want {
			t.Fatalf("node %d before the move: %+v, want %+v", i, got, want)
		}
	}

	c.Isolate(old)
	t.Cleanup(c.Heal)
	newLeader := waitRoles(t, c, old)
	for i, conn := range conns {
		if got, want := reportRole(t, conn), wantRole(i == newLeader); got != want {
			t.Errorf("node %d after leadership moved from %d to %d: %+v, want %+v", i, old, newLeader, got, want)
		}
	}
}

// waitRoles waits until a node other than old leads and old has stepped
// down (it does after its leader lease passes without a quorum); it returns
// the new leader. Bounded by clusterWait.
func waitRoles(t *testing.T, c *servertest.Cluster, old int) int {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for time.Now().Before(deadline) {
		if !c.Nodes[old].Node().IsLeader() {
			for i, n := range c.Nodes {
				if i != old && n.Node().IsLeader() {
					return i
				}
			}
		}
		time.Sleep(10 * time.Millisecond) // a poll: an election is running
	}
	t.Fatalf("leadership did not move away from isolated node %d", old)
	return -1
}
