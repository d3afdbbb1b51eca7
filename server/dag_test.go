package server_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pgraft/pgraft/"

// allowedImports lists module-internal imports, per package. Changing an edge
// means changing this table and docs/design.md (§1, Package layout) in the
// same commit.
var allowedImports = map[string][]string{
	"cmd/pgraft":          {"server"},
	"server":              {"pgvalue", "pgwire", "pgwire/pgerror", "replica", "sqlengine", "sqlengine/translate"},
	"server/servertest":   {"server"},
	"pgwire":              {"pgvalue", "pgwire/pgerror"},
	"pgwire/pgtest":       {},
	"sqlengine":           {"pgvalue", "pgwire/pgerror", "sqlengine/translate"},
	"sqlengine/translate": {"pgvalue", "pgwire/pgerror"}, // PostgreSQL → SQLite, knowing nothing of SQLite's connections
	"pgvalue":             {"pgwire/pgerror"},            // PostgreSQL's value rules, shared by pgwire and sqlengine
	"replica":             {},
	"pgwire/pgerror":      {},

	// Test harnesses outside server: proccluster runs pgraft processes and
	// reaches them over TCP only; the fault suite drives in-process
	// clusters through server.Config hooks, process clusters through
	// proccluster.
	"test/proccluster": {},
	"test/pgserver":    {}, // a throwaway PostgreSQL 15, to compare with
	"test/chaos":       {"server", "server/servertest", "test/proccluster"},
}

// forbiddenExternal keeps heavy dependencies where they belong. replica
// owns Raft and the node-to-node frame codec (replica/frame.go): server
// reaches both only through replica.
var forbiddenExternal = map[string][]string{
	"server":              {"github.com/hashicorp/raft", "github.com/hashicorp/go-msgpack", "encoding/gob"},
	"pgwire":              {"github.com/mattn/go-sqlite3", "github.com/hashicorp/raft", "github.com/pganalyze/pg_query_go"},
	"sqlengine":           {"github.com/hashicorp/raft", "github.com/jackc/pgx"},
	"sqlengine/translate": {"github.com/mattn/go-sqlite3", "github.com/hashicorp/raft", "github.com/jackc/pgx"},
	"replica":             {"github.com/mattn/go-sqlite3", "github.com/jackc/pgx", "github.com/pganalyze/pg_query_go", "encoding/gob"},
	"pgvalue": {"github.com/mattn/go-sqlite3", "github.com/hashicorp/raft", "github.com/pganalyze/pg_query_go",
		"github.com/jackc/pgx"},
}

func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("package %s is not in allowedImports: add it (and to docs/design.md §1, Package layout)", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) {
				if dep := strings.TrimPrefix(imp, module); !slices.Contains(allowed, dep) {
					t.Errorf("%s imports %s: edge not allowed by docs/design.md §1", pkg, dep)
				}
				continue
			}
			for _, bad := range forbiddenExternal[pkg] {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s, which it must not depend on", pkg, imp)
				}
			}
		}
	}
}
