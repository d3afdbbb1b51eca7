// Package pgserver starts a throwaway PostgreSQL 15 server for tests that
// compare pgraft's answers with PostgreSQL's in the same run (psql's
// describe commands, dumps). It imports nothing of pgraft's.
//
// Start runs initdb in a fresh directory and pg_ctl start on a free
// 127.0.0.1 port (trust authentication, user postgres); the test's cleanup
// stops the server and removes the directory. PostgreSQL refuses to run as
// root: under root, its programs run as the postgres user (runuser), which
// Debian's postgresql package creates. Without PostgreSQL 15's programs the
// test is skipped, or fails when CI is set.
//
// Goroutines: none; the server is a child process of pg_ctl, stopped by
// the cleanup.
package pgserver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// BinDir is where Debian puts PostgreSQL 15's server programs.
const BinDir = "/usr/lib/postgresql/15/bin"

// Server is one running PostgreSQL server.
type Server struct {
	Host, Port string
	dir        string
}

// DSN is a pgx/libpq URL for the server (user and database postgres).
func (s *Server) DSN() string {
	return "postgres://postgres@" + net.JoinHostPort(s.Host, s.Port) + "/postgres?sslmode=disable"
}

// Start starts a server for t; the cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgserver: PostgreSQL 15 is not installed: %v", err)
		}
		t.Skipf("pgserver: PostgreSQL 15 is not installed (%v)", err)
	}
	dir, err := os.MkdirTemp("", "pgserver-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	run := func(args ...string) error {
		cmd := exec.Command(args[0], args[1:]...)
		if os.Geteuid() == 0 {
			cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %w\n%s", args, err, out)
		}
		return nil
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgserver: running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	if err := run(filepath.Join(BinDir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
		"--encoding=UTF8", "--locale=C"); err != nil {
		t.Fatalf("pgserver: %v", err)
	}
	s := &Server{Host: "127.0.0.1", dir: dir}
	for attempt := 0; ; attempt++ {
		s.Port = strconv.Itoa(freePort(t))
		opts := "-p " + s.Port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir +
			" -c fsync=off -c timezone=UTC"
		err := run(filepath.Join(BinDir, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start")
		if err == nil {
			break
		}
		if attempt == 3 { // the port was taken between the check and the bind
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("pgserver: %v\n%s", err, log)
		}
	}
	t.Cleanup(func() {
		if err := run(filepath.Join(BinDir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			t.Errorf("pgserver: %v", err)
		}
	})
	return s
}

// freePort returns a port that is free now, between proccluster's range
// (20000–31999) and Linux's ephemeral range (32768 and up), where no
// outgoing connection takes it meanwhile.
func freePort(t testing.TB) int {
	t.Helper()
	for range 1000 {
		port := 32000 + rand.IntN(768)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("pgserver: no free port")
	return 0
}
