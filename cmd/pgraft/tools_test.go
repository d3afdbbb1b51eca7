package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgraft/pgraft/test/proccluster"
)

// toolsDir holds the migration-tool checks, shared with test/tools/run.sh.
const toolsDir = "../../test/tools"

// migrationTool is one migration tool's check program (test/tools): the
// Python module or npm package it needs, and how to run it.
type migrationTool struct {
	name    string
	needs   func(dir string) []string
	command func(ctx context.Context, dir string) *exec.Cmd
}

func migrationTools() []migrationTool {
	python := func(name, module, script string) migrationTool {
		return migrationTool{
			name: name,
			needs: func(dir string) []string {
				if out, err := exec.Command(debianPython, "-c", "import "+module).CombinedOutput(); err != nil {
					return []string{fmt.Sprintf("%s cannot import %s: %s", debianPython, module, strings.TrimSpace(string(out)))}
				}
				return nil
			},
			command: func(ctx context.Context, dir string) *exec.Cmd {
				return exec.CommandContext(ctx, debianPython, filepath.Join(dir, script))
			},
		}
	}
	node := func(name, pkg, script string) migrationTool {
		return migrationTool{
			name: name,
			needs: func(dir string) []string {
				missing := missingCommands("node")
				if _, err := os.Stat(filepath.Join(dir, "node", "node_modules", pkg, "package.json")); err != nil {
					missing = append(missing, "node_modules/"+pkg+" not installed (npm ci)")
				}
				return missing
			},
			command: func(ctx context.Context, dir string) *exec.Cmd {
				return exec.CommandContext(ctx, "node", filepath.Join(dir, "node", script))
			},
		}
	}
	return []migrationTool{
		python("django", "django", "django/check.py"),
		python("alembic", "alembic", "alembic/check.py"),
		node("knex", "knex", "knex_check.js"),
		node("sequelize", "sequelize", "sequelize_check.js"),
		{
			name: "golang-migrate",
			needs: func(dir string) []string {
				missing := missingCommands("psql")
				if _, err := os.Stat(filepath.Join(dir, "bin", "migrate")); err != nil {
					missing = append(missing, "bin/migrate not installed")
				}
				return missing
			},
			command: func(ctx context.Context, dir string) *exec.Cmd {
				return exec.CommandContext(ctx, filepath.Join(dir, "migrate", "check.sh"))
			},
		},
	}
}

// TestMigrationTools runs Django's, Alembic's, knex's, Sequelize's and
// golang-migrate's migrations, unmodified with their default settings, up
// and down against a three-node cluster: Django, knex and golang-migrate
// through a follower (which forwards their transactions to the leader),
// Alembic and Sequelize on the leader.
// Every node must hold the same data afterwards.
func TestMigrationTools(t *testing.T) {
	if testing.Short() {
		t.Skip("migration tools against a cluster: skipped in -short mode")
	}
	dir, err := filepath.Abs(toolsDir)
	if err != nil {
		t.Fatal(err)
	}
	c := proccluster.Start(t, proccluster.Config{Binary: pgraft.Path(t), Nodes: 3})
	leader := c.WaitLeader()
	follower := (leader + 1) % 3
	for i, tool := range migrationTools() {
		t.Run(tool.name, func(t *testing.T) {
			if missing := tool.needs(dir); len(missing) > 0 {
				reason := fmt.Sprintf("%s cannot run: %s (run test/tools/install.sh)", tool.name, strings.Join(missing, "; "))
				if os.Getenv("CI") != "" {
					t.Fatal(reason)
				}
				t.Skip(reason)
			}
			target := c.Nodes[leader]
			if i%2 == 0 {
				target = c.Nodes[follower]
			}
			host, port, err := net.SplitHostPort(target.PGAddr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			cmd := tool.command(ctx, dir)
			cmd.Env = append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGUSER=postgres", "PGDATABASE=postgres")
			cmd.WaitDelay = 10 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s against node %d: %v\n%s", tool.name, target.Index, err, out)
			}
			t.Logf("%s", lastLine(out))
		})
	}
	c.RequireConverged()
}
