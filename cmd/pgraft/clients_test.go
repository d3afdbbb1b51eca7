package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	for _, c := range clientPrograms(dir) {
		t.Run(c.name, func(t *testing.T) {
			if missing := c.requirements(t); len(missing) > 0 {
				reason := fmt.Sprintf("%s cannot run: %s (run test/clients/install.sh)",
					c.name, strings.Join(missing, "; "))
				if os.Getenv("CI") != "" {
					t.Fatal(reason)
				}
				t.Skip(reason)
			}
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			cmd := c.command(ctx, t)
			cmd.Env = env
			cmd.WaitDelay = 10 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s failed against %s:%s: %v\n%s", c.name, n.PGHost, n.PGPort, err, out)
			}
			t.Logf("%s", lastLine(out))
		})
	}
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
