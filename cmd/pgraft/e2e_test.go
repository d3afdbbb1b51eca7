package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// binPath is the pgraft binary TestMain builds for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pgraft-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "pgraft")
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build pgraft: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testNode is a pgraft process started by a test.
type testNode struct {
	t        *testing.T
	DataDir  string
	PGHost   string
	PGPort   string
	HTTPAddr string
	raftAddr string
	cmd      *exec.Cmd
	log      *os.File
}

// PGAddr is host:port of the PostgreSQL listener.
func (n *testNode) PGAddr() string { return net.JoinHostPort(n.PGHost, n.PGPort) }

// DSN is a pgx/libpq URL for the node.
func (n *testNode) DSN() string {
	return "postgres://postgres@" + n.PGAddr() + "/postgres?sslmode=disable"
}

// startNode starts `pgraft serve` on free ports in a fresh data dir and
// stops it when the test ends.
func startNode(t *testing.T) *testNode {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	n := &testNode{t: t, DataDir: filepath.Join(t.TempDir(), "data"), PGHost: "127.0.0.1"}
	n.PGPort = strconv.Itoa(freePort(t))
	n.HTTPAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	n.raftAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	n.start()
	t.Cleanup(n.Stop)
	return n
}

func (n *testNode) start() {
	n.t.Helper()
	var err error
	if n.log, err = os.CreateTemp(n.t.TempDir(), "pgraft-*.log"); err != nil {
		n.t.Fatal(err)
	}
	n.cmd = exec.Command(binPath, "serve", "--data-dir", n.DataDir, "--pg-addr", n.PGAddr(),
		"--http-addr", n.HTTPAddr, "--raft-addr", n.raftAddr)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start pgraft: %v", err)
	}
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
			n.t.Fatalf("pgraft did not become ready: %v\n%s", err, n.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *testNode) logText() string {
	b, _ := os.ReadFile(n.log.Name())
	return string(b)
}

// Kill ends the process with SIGKILL, as a crash would.
func (n *testNode) Kill() {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Kill()
	n.cmd.Wait()
	n.cmd = nil
}

// Stop ends the process with SIGTERM and waits for a clean exit.
func (n *testNode) Stop() {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.t.Errorf("pgraft exited with %v after SIGTERM\n%s", err, n.logText())
		}
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		<-done
		n.t.Errorf("pgraft did not stop within 30s of SIGTERM\n%s", n.logText())
	}
	n.cmd = nil
}

// Restart starts the node again on the same data dir and ports.
func (n *testNode) Restart() {
	n.t.Helper()
	n.start()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
