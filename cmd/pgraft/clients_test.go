package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/test/proccluster"
)

// clientsDir holds the real-driver client programs, shared with
// test/clients/run.sh so both run exactly the same checks.
const clientsDir = "../../test/clients"

// clientTimeout bounds one client program; each takes a few seconds against
// PostgreSQL 15, so this only stops a hung server from hanging the test.
const clientTimeout = 5 * time.Minute

// pgjdbcJar is Debian's libpostgresql-jdbc-java, installed by
// test/clients/install.sh.
const pgjdbcJar = "/usr/share/java/postgresql.jar"

// debianPython is Debian's interpreter, which sees Debian's psycopg packages
// (the python3 first on PATH may be a separate build without them).
const debianPython = "/usr/bin/python3"

// clientProgram is one client check program: requirements lists why it cannot
// run here (empty when it can), and command builds the command to run it.
type clientProgram struct {
	name         string
	requirements func(t *testing.T) []string
	command      func(ctx context.Context, t *testing.T) *exec.Cmd
}

// TestClients runs every real-driver client program (psycopg2, psycopg 3,
// pgjdbc, node-postgres) against a pgraft node. The programs print
// "ok - …"/"not ok - …" lines and exit non-zero when a check fails.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("real-driver client checks are slow; skipped in -short mode")
	}
	dir, err := filepath.Abs(clientsDir)
	if err != nil {
		t.Fatalf("resolve %s: %v", clientsDir, err)
	}
	n := startNode(t)
	env := append(os.Environ(), "PGHOST="+n.PGHost, "PGPORT="+n.PGPort)
	runClients(t, dir, n.PGHost, n.PGPort, env)
}

// TestClientsThreeNodes runs the same programs against the leader of a
// three-node cluster, with a follower's address for their COPY-through-a-
// follower checks (PGFOLLOWER_HOST, PGFOLLOWER_PORT), then checks that
// every node holds the same data. On a loaded machine the leader may step
// down during a run; a write it had in flight then fails with 40001 or
// 40003 (docs/design.md §4, "Outcomes"), and a session left on the old
// leader reads as on a follower (another session's commit may not be
// there yet: docs/design.md §6). These programs assume one primary
// throughout, as with PostgreSQL: a run that failed so, or during which
// the term moved, is repeated against the new leader (each program drops
// its tables first), at most three times.
func TestClientsThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("real-driver client checks are slow; skipped in -short mode")
	}
	dir, err := filepath.Abs(clientsDir)
	if err != nil {
		t.Fatalf("resolve %s: %v", clientsDir, err)
	}
	c := proccluster.Start(t, proccluster.Config{Binary: pgraft.Path(t), Nodes: 3})
	addrs := func() (host, port, fhost, fport string) {
		leader := c.WaitLeader()
		var err error
		if host, port, err = net.SplitHostPort(c.Nodes[leader].PGAddr); err != nil {
			t.Fatal(err)
		}
		if fhost, fport, err = net.SplitHostPort(c.Nodes[(leader+1)%3].PGAddr); err != nil {
			t.Fatal(err)
		}
		(&testNode{Node: c.Nodes[leader], t: t, c: c, PGHost: host, PGPort: port}).waitWritable()
		return host, port, fhost, fport
	}
	term := func() uint64 { // the highest term any node reports
		var max uint64
		for i := range c.Nodes {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if st, err := c.Status(ctx, i); err == nil && st.Term > max {
				max = st.Term
			}
			cancel()
		}
		return max
	}
	for _, prog := range clientPrograms(dir) {
		t.Run(prog.name, func(t *testing.T) {
			requireClient(t, prog)
			for attempt := 1; ; attempt++ {
				host, port, fhost, fport := addrs()
				before := term()
				env := append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGFOLLOWER_HOST="+fhost, "PGFOLLOWER_PORT="+fport)
				out, err := runClient(t, prog, env)
				if err == nil {
					t.Logf("%s", lastLine(out))
					return
				}
				if after := term(); attempt < 3 && (leaderLost(out) || after != before) {
					t.Logf("attempt %d against %s:%s lost its leader (term %d to %d); again:\n%s",
						attempt, host, port, before, after, failures(out))
					continue
				}
				t.Fatalf("%s failed against %s:%s: %v\n%s", prog.name, host, port, err, out)
			}
		})
	}
	c.RequireConverged()
}

// leaderLost reports whether a client program's failures include a write
// that a leader change ended (40001 "…the write was not applied", 40003).
func leaderLost(out []byte) bool {
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "not ok - ") {
			continue
		}
		for _, sign := range []string{"the write was not applied", "may or may not have committed", "got 40001", "got '40001'", "got 40003", "got '40003'"} {
			if strings.Contains(line, sign) {
				return true
			}
		}
	}
	return false
}

// failures returns a client program's "not ok" lines, or the end of its
// output when it stopped without one.
func failures(out []byte) string {
	all := strings.Split(strings.TrimSpace(string(out)), "\n")
	var lines []string
	for _, line := range all {
		if strings.HasPrefix(line, "not ok - ") {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		lines = all[max(len(all)-10, 0):]
	}
	return strings.Join(lines, "\n")
}

// TestClientsSCRAMAndTLS runs the same programs against a node that
// authenticates with SCRAM-SHA-256 and takes only TLS connections, each
// driver with sslmode=verify-full against the node's CA (from the
// environment: PGPASSWORD, PGSSLMODE, PGSSLROOTCERT, NODE_EXTRA_CA_CERTS).
func TestClientsSCRAMAndTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("real-driver client checks are slow; skipped in -short mode")
	}
	dir, err := filepath.Abs(clientsDir)
	if err != nil {
		t.Fatalf("resolve %s: %v", clientsDir, err)
	}
	tlsDir := t.TempDir()
	ca, err := loadOrCreateCA(tlsDir)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := ca.issueNode(tlsDir, "db", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	const password = "client-matrix-pw-41"
	pwFile := filepath.Join(tlsDir, "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := proccluster.Start(t, proccluster.Config{Binary: pgraft.Path(t), Nodes: 1, Flags: []string{
		"--auth", "scram", "--password-file", pwFile, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-required"}})
	host, port, err := net.SplitHostPort(c.Nodes[0].PGAddr)
	if err != nil {
		t.Fatal(err)
	}
	dsn := "host=" + host + " port=" + port + " user=postgres dbname=postgres password=" + password +
		" sslmode=verify-full sslrootcert=" + ca.certFile
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for { // the bootstrap superuser is created through the log once the node leads
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS _e2e_ready (x int)")
			conn.Close(ctx)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the node never accepted the superuser over TLS: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	env := append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGPASSWORD="+password,
		"PGSSLMODE=verify-full", "PGSSLROOTCERT="+ca.certFile, "NODE_EXTRA_CA_CERTS="+ca.certFile)
	runClients(t, dir, host, port, env)
}

// runClients runs every client program under dir with env.
func runClients(t *testing.T, dir, host, port string, env []string) {
	for _, c := range clientPrograms(dir) {
		t.Run(c.name, func(t *testing.T) {
			requireClient(t, c)
			out, err := runClient(t, c, env)
			if err != nil {
				t.Fatalf("%s failed against %s:%s: %v\n%s", c.name, host, port, err, out)
			}
			t.Logf("%s", lastLine(out))
		})
	}
}

// requireClient skips (or, under CI, fails) when c cannot run here.
func requireClient(t *testing.T, c clientProgram) {
	t.Helper()
	if missing := c.requirements(t); len(missing) > 0 {
		reason := fmt.Sprintf("%s cannot run: %s (run test/clients/install.sh)",
			c.name, strings.Join(missing, "; "))
		if os.Getenv("CI") != "" {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
}

// runClient runs one client program with env and returns its output.
func runClient(t *testing.T, c clientProgram, env []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := c.command(ctx, t)
	cmd.Env = env
	cmd.WaitDelay = 10 * time.Second
	return cmd.CombinedOutput()
}

// clientPrograms lists the client programs under dir in the order run.sh runs them.
func clientPrograms(dir string) []clientProgram {
	python := func(name, module, script string) clientProgram {
		return clientProgram{
			name: name,
			requirements: func(t *testing.T) []string {
				if _, err := os.Stat(debianPython); err != nil {
					return []string{debianPython + " not found"}
				}
				probe := exec.Command(debianPython, "-c", "import "+module)
				if out, err := probe.CombinedOutput(); err != nil {
					return []string{fmt.Sprintf("%s cannot import %s: %s", debianPython, module,
						strings.TrimSpace(string(out)))}
				}
				return nil
			},
			command: func(ctx context.Context, t *testing.T) *exec.Cmd {
				return exec.CommandContext(ctx, debianPython, filepath.Join(dir, "python", script))
			},
		}
	}
	return []clientProgram{
		python("psycopg2", "psycopg2", "test_psycopg2.py"),
		python("psycopg3", "psycopg", "test_psycopg3.py"),
		{
			name: "pgjdbc",
			requirements: func(t *testing.T) []string {
				missing := missingCommands("javac", "java")
				if _, err := os.Stat(pgjdbcJar); err != nil {
					missing = append(missing, pgjdbcJar+" not found")
				}
				return missing
			},
			command: func(ctx context.Context, t *testing.T) *exec.Cmd {
				classes := t.TempDir()
				javac := exec.CommandContext(ctx, "javac", "-d", classes, "-cp", pgjdbcJar,
					filepath.Join(dir, "java", "ClientTest.java"))
				if out, err := javac.CombinedOutput(); err != nil {
					t.Fatalf("javac ClientTest.java: %v\n%s", err, out)
				}
				return exec.CommandContext(ctx, "java", "-cp",
					classes+string(os.PathListSeparator)+pgjdbcJar, "ClientTest")
			},
		},
		{
			name: "node-postgres",
			requirements: func(t *testing.T) []string {
				missing := missingCommands("node")
				pg := filepath.Join(dir, "node", "node_modules", "pg", "package.json")
				if _, err := os.Stat(pg); err != nil {
					missing = append(missing, "node_modules/pg not installed (npm ci)")
				}
				return missing
			},
			command: func(ctx context.Context, t *testing.T) *exec.Cmd {
				return exec.CommandContext(ctx, "node", filepath.Join(dir, "node", "client_test.js"))
			},
		},
	}
}

// missingCommands reports which of the named programs are not on PATH.
func missingCommands(names ...string) []string {
	var missing []string
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if errors.Is(err, exec.ErrNotFound) {
				missing = append(missing, name+" not on PATH")
			} else {
				missing = append(missing, fmt.Sprintf("%s: %v", name, err))
			}
		}
	}
	return missing
}

// lastLine returns the final non-empty line of a client's output: its
// "N passed, N failed" summary.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}
