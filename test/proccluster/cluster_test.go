package proccluster

import (
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var pgraft Binary

func TestMain(m *testing.M) {
	code := m.Run()
	pgraft.Remove()
	os.Exit(code)
}

// TestKillRestartAndExits runs three nodes through what the fault suite and
// the end-to-end tests do with them: a write, kill -9 of a follower and a
// restart that catches up, an exit nobody asked for (reported through
// Config.Exited, so that the suites can call it a violation), and a
// graceful stop.
func TestKillRestartAndExits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pgraft processes: skipped with -short")
	}
	var mu sync.Mutex
	var exited []int
	c := Start(t, Config{Binary: pgraft.Path(t), Nodes: 3, Exited: func(n *Node, err error) {
		mu.Lock()
		exited = append(exited, n.Index)
		mu.Unlock()
	}})
	leader := c.WaitLeader()
	follower := (leader + 1) % 3
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.Nodes[leader].DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	before := c.RequireConverged()

	c.Kill(follower)
	if c.Running(follower) {
		t.Fatal("Running after Kill")
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("insert with one of three nodes down: %v", err)
	}
	c.Start(follower)
	if after := c.RequireConverged(); after == before {
		t.Errorf("checksum %s did not change with the insert", after)
	}

	// A crash the harness did not cause.
	c.Nodes[follower].cmd.Process.Signal(syscall.SIGKILL)
	<-c.Nodes[follower].done
	mu.Lock()
	got := append([]int(nil), exited...)
	mu.Unlock()
	if len(got) != 1 || got[0] != follower {
		t.Errorf("Exited called for nodes %v, want [%d]", got, follower)
	}
	if c.Running(follower) {
		t.Error("Running after the process died")
	}
	c.Start(follower)
	c.Stop(follower)
	log, err := os.ReadFile(c.Nodes[follower].LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "=== proccluster: start"); n != 3 {
		t.Errorf("log has %d start markers, want 3 (one per start)", n)
	}
}
