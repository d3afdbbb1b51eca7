package server_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// hugeRepeat asks for 2^63 bytes: 'ab' × 2^62 (issue 13).
const hugeRepeat = "repeat('ab', 4611686018427387904)"

// TestClusterSurvivesIssue13 replays issue 13 on three in-process nodes:
// the huge repeat in an INSERT (autocommit and inside BEGIN) and in eight
// concurrent SELECTs, a 40,000-term + chain on the simple protocol and a
// 65,535-parameter chain on the extended protocol. Each gets PostgreSQL's
// SQLSTATE; afterwards every node answers a new session and all agree.
func TestClusterSurvivesIssue13(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	leader := connect(t, c.Leader())
	mustExec(t, leader, "CREATE TABLE t (id int PRIMARY KEY, v text)")

	t.Run("INSERT autocommit", func(t *testing.T) {
		_, err := leader.Exec(ctx, "INSERT INTO t VALUES (2, "+hugeRepeat+")")
		wantCode(t, err, "54000")
	})
	t.Run("INSERT inside BEGIN", func(t *testing.T) {
		mustExec(t, leader, "BEGIN")
		_, err := leader.Exec(ctx, "INSERT INTO t VALUES (2, "+hugeRepeat+")")
		wantCode(t, err, "54000")
		mustExec(t, leader, "ROLLBACK")
	})
	mustExec(t, leader, "INSERT INTO t VALUES (1, 'after')")

	t.Run("eight concurrent SELECTs", func(t *testing.T) {
		for _, n := range []*servertest.Node{c.Leader(), c.Followers()[0]} {
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				conn := connect(t, n)
				wg.Go(func() {
					var x int64
					errs[i] = conn.QueryRow(ctx, "SELECT length("+hugeRepeat+")").Scan(&x)
				})
			}
			wg.Wait()
			for _, err := range errs {
				wantCode(t, err, "54000")
			}
		}
	})

	t.Run("40,000-term + chain, simple protocol", func(t *testing.T) {
		sql := "SELECT 1" + strings.Repeat("+1", 39999)
		var x int64
		err := leader.QueryRow(ctx, sql, pgx.QueryExecModeSimpleProtocol).Scan(&x)
		wantCode(t, err, "54001")
	})
	t.Run("65,535-parameter chain, extended protocol", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("SELECT $1::int")
		args := []any{1}
		for i := 2; i <= 65535; i++ {
			b.WriteString("+$" + strconv.Itoa(i))
			args = append(args, 1)
		}
		var x int64
		err := leader.QueryRow(ctx, b.String(), args...).Scan(&x)
		wantCode(t, err, "54001")
	})

	for i := range c.Nodes {
		conn := connect(t, c.Nodes[i])
		if got := queryStrings(t, conn, "SELECT v FROM t ORDER BY id"); len(got) != 1 || got[0] != "after" {
			t.Fatalf("node %d: rows %q after the issue's statements", i, got)
		}
	}
	c.RequireConverged()
}
