package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/test/proccluster"
)

// stagedParts reads pgraft_staged_parts from a node's /metrics: the parts
// of a transaction larger than one log entry it holds until the final
// entry (docs/design.md, "Transactions larger than one entry").
func stagedParts(n *proccluster.Node) (int64, error) {
	resp, err := http.Get("http://" + n.HTTPAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "pgraft_staged_parts "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("no pgraft_staged_parts at %s", n.HTTPAddr)
}

// TestKillLeaderMidCopy: a COPY larger than one log entry is all or
// nothing under kill -9 of the leader while its parts are in the log. The
// new leader's first write drops the dead leader's parts on every node;
// no row of the COPY appears anywhere; the cluster goes on writing, and
// the killed node converges when it restarts.
func TestKillLeaderMidCopy(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*clusterDeadline)
	defer cancel()
	leader := c.WaitLeader()
	exec := func(sql string) {
		t.Helper()
		for {
			conn, err := pgx.Connect(ctx, c.Nodes[c.WaitLeader()].DSN())
			if err == nil {
				_, err = conn.Exec(ctx, sql)
				conn.Close(context.Background())
			}
			if err == nil {
				return
			}
			if code := pgCode(err); code != "40001" && code != "" || ctx.Err() != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	exec("CREATE TABLE big (id int PRIMARY KEY, b text NOT NULL)")
	exec("CREATE TABLE after (id int)")
	c.RequireConverged()

	// 80 MB: about 80 parts, logged one after the other at COMMIT.
	pad := strings.Repeat("x", 990)
	rows := make([][]any, 80000)
	for i := range rows {
		rows[i] = []any{int32(i), fmt.Sprintf("%s%010d", pad, i)}
	}
	conn, err := pgx.Connect(ctx, c.Nodes[leader].DSN())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"big"}, []string{"id", "b"}, pgx.CopyFromRows(rows))
		done <- err
	}()
	// Kill the leader once a follower holds some of the parts.
	staged := int64(0)
	for staged < 3 {
		select {
		case err := <-done:
			t.Fatalf("the COPY ended before the kill: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		for i, n := range c.Nodes {
			if i != leader {
				if s, err := stagedParts(n); err == nil {
					staged = max(staged, s)
				}
			}
		}
	}
	c.Kill(leader)
	t.Logf("killed node %d with %d parts staged on a follower", leader, staged)
	if err := <-done; err == nil {
		t.Fatal("the COPY succeeded although its leader was killed mid-COMMIT")
	}
	conn.Close(context.Background())

	// The new leader's first write (of a later term) drops the parts.
	exec("INSERT INTO after VALUES (1)")
	running := func(f func(i int, n *proccluster.Node)) {
		for i, n := range c.Nodes {
			if c.Running(i) {
				f(i, n)
			}
		}
	}
	deadline := time.Now().Add(clusterDeadline)
	running(func(i int, n *proccluster.Node) {
		for {
			s, err := stagedParts(n)
			if err == nil && s == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d: %d parts staged after the new leader's write (%v)", i, s, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	countRows := func(i int, n *proccluster.Node) int64 {
		t.Helper()
		conn, err := pgx.Connect(ctx, n.DSN())
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "SET pgraft.read_consistency = 'linearizable'"); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		var got int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&got); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		return got
	}
	running(func(i int, n *proccluster.Node) {
		if got := countRows(i, n); got != 0 {
			t.Errorf("node %d: %d rows of a COPY whose leader died before its final entry", i, got)
		}
	})

	// The cluster goes on: a large COPY on the new leader commits.
	for {
		conn, err := pgx.Connect(ctx, c.Nodes[c.WaitLeader()].DSN())
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.CopyFrom(ctx, pgx.Identifier{"big"}, []string{"id", "b"}, pgx.CopyFromRows(rows[:20000]))
		conn.Close(context.Background())
		if err == nil {
			break
		}
		if pgCode(err) != "40001" || ctx.Err() != nil {
			t.Fatalf("COPY after the failover: %v", err)
		}
	}
	c.Start(leader)
	c.RequireConverged()
	running(func(i int, n *proccluster.Node) {
		if got := countRows(i, n); got != 20000 {
			t.Errorf("node %d: %d rows, want 20000", i, got)
		}
		if s, err := stagedParts(n); err != nil || s != 0 {
			t.Errorf("node %d: %d parts staged (%v)", i, s, err)
		}
	})
}
