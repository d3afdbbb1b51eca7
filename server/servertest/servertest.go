// Package servertest starts pgraft nodes inside a test process, on real TCP
// listeners bound to 127.0.0.1, the way net/http/httptest starts servers.
package servertest

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pgraft/pgraft/server"
)

// Node is one in-process pgraft node.
type Node struct {
	*server.Server
	DataDir string
	t       testing.TB
	// password is the bootstrap superuser's, for DSN, when the node
	// authenticates (Config.Auth scram).
	password string
}

// DSN returns a libpq/pgx connection string for the node.
func (n *Node) DSN() string {
	user := url.User("postgres")
	if n.password != "" {
		user = url.UserPassword("postgres", n.password)
	}
	return "postgres://" + user.String() + "@" + n.PGAddr() + "/postgres?sslmode=disable"
}

// nodePassword is what DSN logs in with under cfg.
func nodePassword(cfg server.Config) string {
	if cfg.Auth == server.AuthSCRAM {
		return cfg.SuperuserPassword
	}
	return ""
}

// Start starts a single node that bootstraps its own cluster in a fresh
// temporary data dir, waits until it leads and admits clients, and stops it
// when the test ends.
// Each opt adjusts the node's configuration before it starts.
func Start(t testing.TB, opts ...func(*server.Config)) *Node {
	t.Helper()
	return StartDir(t, filepath.Join(t.TempDir(), "data"), opts...)
}

// StartDir is Start on a given data dir (to restart a node on its data).
func StartDir(t testing.TB, dir string, opts ...func(*server.Config)) *Node {
	t.Helper()
	n := OpenDir(t, dir, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("servertest: node not ready: %v", err)
	}
	return n
}

// OpenDir is StartDir without the wait: the node's ports are open as soon
// as it returns, whether or not it admits clients yet.
func OpenDir(t testing.TB, dir string, opts ...func(*server.Config)) *Node {
	t.Helper()
	cfg := server.Config{
		DataDir:          dir,
		PGListener:       listen(t),
		RaftListener:     listen(t),
		HTTPListener:     listen(t),
		HeartbeatTimeout: 200 * time.Millisecond,
		ElectionTimeout:  200 * time.Millisecond,
		Logger:           testLogger(),
	}
	cfg.RaftAddr = cfg.RaftListener.Addr().String()
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.Open(cfg)
	if err != nil {
		t.Fatalf("servertest: open node: %v", err)
	}
	n := &Node{Server: srv, DataDir: dir, t: t, password: nodePassword(cfg)}
	t.Cleanup(func() { n.Stop() })
	return n
}

// Stop shuts the node down gracefully. Safe to call twice.
func (n *Node) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		n.t.Errorf("servertest: shutdown: %v", err)
	}
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servertest: listen: %v", err)
	}
	return l
}

// testLogger logs to stderr when PGRAFT_TEST_LOG is set, else nowhere.
func testLogger() *slog.Logger {
	if os.Getenv("PGRAFT_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
