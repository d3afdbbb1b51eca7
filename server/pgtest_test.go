package server_test

import (
	"context"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgraft/pgraft/pgwire/pgtest"
	"github.com/pgraft/pgraft/server/servertest"
)

var (
	pgAddr = flag.String("pgaddr", "",
		"run the pgtest scripts against the PostgreSQL server at host:port (trust auth, user postgres) instead of pgraft")
	pgtestRewrite = flag.Bool("rewrite", false,
		"with -pgaddr: replace the expectations in testdata/pgtest with PostgreSQL's answers")
)

// TestPGTest runs every protocol script in testdata/pgtest, each on its own
// fresh node, or with -pgaddr on PostgreSQL in a fresh database, which is how
// the expectations are proven:
//
//	go test ./server -run TestPGTest -pgaddr 127.0.0.1:5432 [-rewrite]
func TestPGTest(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "pgtest", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no scripts in testdata/pgtest")
	}
	if *pgtestRewrite && *pgAddr == "" {
		t.Fatal("-rewrite needs -pgaddr: expectations come from PostgreSQL, not from pgraft")
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			var cfg pgtest.Config
			if *pgAddr != "" {
				cfg.Addr = *pgAddr
				cfg.Database = freshPostgresDatabase(t, *pgAddr, name)
			} else {
				cfg.Addr = servertest.Start(t).PGAddr()
			}
			pgtest.RunFile(t, path, cfg, *pgtestRewrite)
		})
	}
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// freshPostgresDatabase creates an empty database for one script on real
// PostgreSQL, so scripts need no cleanup and can run twice, and drops it
// when the test ends.
func freshPostgresDatabase(t *testing.T, addr, script string) string {
	t.Helper()
	db := "pgtest_" + notIdent.ReplaceAllString(strings.ToLower(script), "_")
	admin := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgconn.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
		if err != nil {
			t.Fatalf("connect to %s: %v", addr, err)
		}
		defer c.Close(ctx)
		// CREATE/DROP DATABASE refuse to run in the implicit transaction of
		// a multi-statement query, hence one call per statement.
		if _, err := c.Exec(ctx, sql).ReadAll(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
	admin("CREATE DATABASE " + db)
	t.Cleanup(func() { admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)") })
	return db
}
