package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestStartupAdmitsOnlyWhenReady: from the moment a fresh node's port
// opens, a client either gets 57P03 "the database system is starting up"
// or a session in which its first write succeeds, never a 40001 from a
// node that does not lead yet (issue 15: a script that starts pgraft and
// creates its schema at once). A one-node cluster waits to lead before it
// serves, so its clients are never refused.
func TestStartupAdmitsOnlyWhenReady(t *testing.T) {
	for round := range 3 {
		n := servertest.OpenDir(t, filepath.Join(t.TempDir(), "data"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err := pgx.Connect(ctx, n.DSN())
		if err != nil {
			t.Fatalf("round %d: connect as soon as the one-node cluster's port opened: %v", round, err)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE first_write (id int PRIMARY KEY)"); err != nil {
			t.Fatalf("round %d: the first write: %v", round, err)
		}
		conn.Close(ctx)
		cancel()
		n.Stop()
	}
}

// TestNodeWithoutQuorumRefusesClientsAtStart: a node of a three-node
// cluster restarting while the others are down cannot serve (no leader):
// it answers 57P03 until a second node is back, then admits clients whose
// writes succeed.
func TestNodeWithoutQuorumRefusesClientsAtStart(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, "CREATE TABLE kv (k int PRIMARY KEY)")
	for i := range 3 {
		c.Stop(i)
	}
	c.Restart(0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for range 5 {
		_, err := pgx.Connect(ctx, c.Nodes[0].DSN())
		wantCode(t, err, "57P03")
		time.Sleep(100 * time.Millisecond)
	}
	c.Restart(1)
	var refused int
	for {
		conn, err := pgx.Connect(ctx, c.Nodes[0].DSN())
		if err != nil {
			if sqlstate(err) != "57P03" {
				t.Fatalf("connect while the cluster regains its quorum: %v, want 57P03 or a session", err)
			}
			refused++
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if _, err := conn.Exec(ctx, "INSERT INTO kv VALUES (1)"); err != nil {
			t.Fatalf("the first write of an admitted session: %v", err)
		}
		conn.Close(ctx)
		break
	}
	t.Logf("%d connections refused with 57P03 until the quorum was back", refused)
}

// TestWritesWaitForTheNewLeader: a write that arrives while the cluster has
// no leader (the leader crashed) waits for the election and succeeds, on a
// follower and in a transaction block, instead of failing at once with
// 40001; with pgraft.leader_wait = 0 it fails at once as before.
func TestWritesWaitForTheNewLeader(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	leaderExec(t, c, "CREATE TABLE kv (k int PRIMARY KEY, v text)")
	old := c.LeaderIndex()
	var conns []*pgx.Conn
	for i := range 3 {
		if i != old {
			conns = append(conns, connect(t, c.Nodes[i]))
		}
	}
	ctx := context.Background()
	mustExec(t, conns[1], "SET pgraft.leader_wait = 0")
	c.Crash(old)

	// Without the wait, a write right after the crash fails at once: the
	// followers' election timeout (500 ms) has not even run out.
	_, err := conns[1].Exec(ctx, "INSERT INTO kv VALUES (3, 'no wait')")
	wantCode(t, err, "40001")

	start := time.Now()
	mustExec(t, conns[0], "INSERT INTO kv VALUES (1, 'during the election')")
	waited := time.Since(start)
	mustExec(t, conns[0], "BEGIN")
	mustExec(t, conns[0], "INSERT INTO kv VALUES (2, 'in a block')")
	mustExec(t, conns[0], "COMMIT")
	t.Logf("the write during the election waited %v", waited)
	if n := count(t, conns[0], "SELECT count(*) FROM kv"); n != 2 {
		t.Fatalf("%d rows, want the two writes that waited for the election", n)
	}
	c.Restart(old)
	ctx2, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := c.WaitConverged(ctx2); err != nil {
		t.Fatal(err)
	}
}
