package main

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/test/proccluster"
)

// pgraft is the binary the end-to-end tests run, built on first use.
var pgraft proccluster.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	pgraft.Remove()
	os.Exit(code)
}

// testNode is a one-node cluster: one pgraft process, started by a test.
type testNode struct {
	*proccluster.Node
	t              *testing.T
	c              *proccluster.Cluster
	PGHost, PGPort string
}

// startNode starts `pgraft serve` on free ports in a fresh data dir and
// stops it when the test ends (SIGTERM: it must exit cleanly).
func startNode(t *testing.T) *testNode {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	c := proccluster.Start(t, proccluster.Config{Binary: pgraft.Path(t), Nodes: 1})
	n := &testNode{Node: c.Nodes[0], t: t, c: c}
	var err error
	if n.PGHost, n.PGPort, err = net.SplitHostPort(n.PGAddr); err != nil {
		t.Fatal(err)
	}
	n.waitWritable()
	return n
}

// waitWritable waits until the node accepts a write: it leads, and has
// applied every entry its log held when it started.
func (n *testNode) waitWritable() {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, n.DSN())
		if err == nil {
			_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS _e2e_ready (x int)")
			conn.Close(ctx)
			if err == nil {
				return
			}
		}
		if ctx.Err() != nil {
			n.t.Fatalf("pgraft did not take a write: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill ends the process with SIGKILL, as a crash would.
func (n *testNode) Kill() { n.c.Kill(0) }

// Restart starts the node again on the same data dir and ports.
func (n *testNode) Restart() {
	n.t.Helper()
	n.c.Start(0)
	n.waitWritable()
}
