package translate_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// TestParseDepthAtBoundOnSmallStack runs the deepest query of every shape
// that maxParseDepth allows through pg_query in a child process whose
// threads have 1 MiB stacks (ulimit -s 1024: glibc sizes threads by it),
// an eighth of the usual 8 MiB and half of the 2 MiB glibc gives threads
// when the limit is unlimited, and then the translation through SQLite on
// a real engine. The child dying is the failure. (An external test
// package: translate's own code never imports sqlengine.)
func TestParseDepthAtBoundOnSmallStack(t *testing.T) {
	if os.Getenv("PGRAFT_STACK_PROBE") != "" {
		e, err := sqlengine.Open(sqlengine.Config{Path: filepath.Join(t.TempDir(), "db.sqlite")})
		if err != nil {
			t.Fatalf("open engine: %v", err)
		}
		defer e.Close()
		ran := 0
		for _, gen := range translate.DepthShapeGens() {
			if n := translate.LargestAllowed(gen); n >= 0 {
				done := make(chan struct{})
				go func() { // on a thread other than main's
					defer close(done)
					// SQLite's own recursion over what the translation made of
					// it, where it translates: SQLite bounds it by depth 1000.
					if stmts, err := translate.SQL(gen(n), nil, translate.Options{}); err == nil && stmts[0].Kind == translate.KindSelect {
						runQuery(context.Background(), e, stmts[0].SQL) //nolint:errcheck // surviving is the test
						ran++
					}
				}()
				<-done
			}
		}
		fmt.Printf("stack probe survived (%d ran on SQLite)\n", ran)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command("sh", "-c", `ulimit -s 1024 && exec "$0" -test.run='^TestParseDepthAtBoundOnSmallStack$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "PGRAFT_STACK_PROBE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stack probe survived") {
		t.Fatalf("child with 1 MiB stacks: %v\n%.2000s", err, out)
	}
}

// runQuery runs q on e to its end and returns its error, the rows' included.
func runQuery(ctx context.Context, e *sqlengine.Engine, q string) error {
	rows, err := e.Query(ctx, q, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
