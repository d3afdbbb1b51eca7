package server_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestDDLFuzz sends random schema changes mixed with writes and reads,
// from a grammar over a few tables, views, indexes and sequences that
// depend on each other (views over views, foreign keys, expression
// indexes, renames, dropped and retyped columns, DDL that fails halfway
// through a transaction), to a three-node in-process cluster through every
// node. After each batch every node must answer SELECT 1, read each of its
// relations and its catalog without an internal error, and hold the same
// data; now and then a follower restarts and must load its schema again
// (issue 10: no statement can make a node unusable).
//
// make test runs a short run (PGRAFT_DDL_STATEMENTS, default 900); make
// fuzz runs 1,000,000. PGRAFT_DDL_SEED fixes the generator (default: the
// clock, logged).
func TestDDLFuzz(t *testing.T) {
	skipShortCluster(t)
	total := envInt(t, "PGRAFT_DDL_STATEMENTS", 900)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PGRAFT_DDL_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PGRAFT_DDL_SEED: %v", err)
		}
		seed = s
	}
	t.Logf("DDL fuzz: %d statements, seed %d (PGRAFT_DDL_SEED=%d replays the generator)", total, seed, seed)

	c := servertest.NewCluster(t, 3)
	const workers = 3 // one session per node
	const batch = 300
	var st fuzzStats
	start := time.Now()
	for done, round := 0, 0; done < total; round++ {
		n := min(batch, total-done)
		var wg sync.WaitGroup
		for w := range workers {
			g := &ddlGen{rng: rand.New(rand.NewPCG(seed, uint64(done*workers+w)))}
			wg.Go(func() {
				// A session waiting behind another's open transaction gives
				// up soon (55P03) rather than wait out lock_timeout.
				runFuzzSession(t, "DDL fuzz", c.Nodes[w].DSN(), "SET statement_timeout = '2s'; SET lock_timeout = '200ms'",
					g.statement, n/workers+1, &st, 10)
			})
		}
		wg.Wait()
		done += n
		if round%5 == 4 { // a follower reloads its schema from its own file
			f := (c.LeaderIndex() + 1 + round%2) % 3
			c.Stop(f)
			c.Restart(f)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			_, err := c.WaitConverged(ctx)
			if err == nil {
				err = c.Nodes[f].WaitReady(ctx) // it admits clients again
			}
			cancel()
			if err != nil {
				t.Fatalf("DDL fuzz: node %d restarted after %d statements and did not catch up: %v", f, done, err)
			}
		}
		requireSchemaServes(t, c, done)
	}
	t.Logf("DDL fuzz: %d statements in %v (%d errors: %s); every node served its schema and converged after each batch of %d",
		st.sent.Load(), time.Since(start).Round(time.Second), st.failed.Load(), st.summary(), batch)
	if n := st.internal.Load(); n > 0 {
		t.Errorf("DDL fuzz: %d statements answered XX000 (internal error); the first are logged above", n)
	}
}

// requireSchemaServes is requireServing plus: every node reads each of its
// relations and its catalog without an internal error.
func requireSchemaServes(t *testing.T, c *servertest.Cluster, done int) {
	t.Helper()
	if done%30000 == 0 {
		t.Logf("DDL fuzz: %d statements sent, every node serving and converged so far", done)
	}
	requireServing(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, n := range c.Nodes {
		conn, err := pgx.Connect(ctx, n.DSN())
		if err != nil {
			t.Fatalf("node %d: connect: %v", i, err)
		}
		rels := queryStrings(t, conn, `SELECT relname FROM pg_class WHERE relkind IN ('r', 'v') ORDER BY relname`)
		queries := []string{
			`SELECT count(*) FROM pg_attribute`, `SELECT count(*) FROM pg_constraint`, `SELECT count(*) FROM pg_index`,
			`SELECT count(*) FROM information_schema.columns`, `SELECT count(*) FROM information_schema.table_constraints`,
		}
		for _, r := range rels {
			queries = append(queries, `SELECT * FROM "`+r+`" LIMIT 3`)
		}
		for _, q := range queries {
			rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
			}
			// A view may fail on its rows' data (22xxx: a cast or a
			// division its rows make fail), as in PostgreSQL; anything else
			// (a relation the catalog lists that cannot be read, an internal
			// error, a lost connection) is a schema the node cannot serve.
			if code := sqlstate(err); err != nil && !strings.HasPrefix(code, "22") {
				conn.Close(ctx)
				t.Fatalf("node %d after %d statements: %s: %v", i, done, q, err)
			}
		}
		conn.Close(ctx)
	}
}

// ddlGen generates statements over tables t0..t3 (columns a..e), views
// v0..v2, indexes i0..i3 and sequences s0..s1. It belongs to one goroutine.
type ddlGen struct{ rng *rand.Rand }

func (g *ddlGen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }
func (g *ddlGen) n(k int) string           { return strconv.Itoa(g.rng.IntN(k)) }
func (g *ddlGen) table() string            { return "t" + g.n(4) }
func (g *ddlGen) view() string             { return "v" + g.n(3) }
func (g *ddlGen) col() string              { return g.pick("a", "b", "c", "d", "e") }
func (g *ddlGen) rel() string {
	if g.rng.IntN(3) == 0 {
		return g.view()
	}
	return g.table()
}

func (g *ddlGen) typ() string {
	return g.pick("int", "bigint", "text", "varchar(20)", "numeric(10,2)", "boolean", "date", "timestamptz", "double precision", "jsonb", "int[]")
}

func (g *ddlGen) literal() string {
	return g.pick("1", "0", "-7", "NULL", "'x'", "'12'", "true", "'2024-01-01'", "1.25", "'{\"k\": 1}'", "'{1,2}'", "now()")
}

func (g *ddlGen) columnDef() string {
	d := g.col() + " " + g.typ()
	switch g.rng.IntN(6) {
	case 0:
		d += " NOT NULL DEFAULT " + g.literal()
	case 1:
		d += " UNIQUE"
	case 2:
		d += " CHECK (" + g.col() + " IS NOT NULL)"
	case 3:
		d += " REFERENCES " + g.table() + g.pick("", " ON DELETE CASCADE", " ON DELETE SET NULL")
	case 4:
		d += " DEFAULT " + g.literal()
	}
	return d
}

func (g *ddlGen) statement() string {
	switch g.rng.IntN(24) {
	case 0, 1:
		cols := []string{"id int PRIMARY KEY"}
		if g.rng.IntN(3) == 0 {
			cols[0] = g.pick("id serial PRIMARY KEY", "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "id int")
		}
		for range 1 + g.rng.IntN(3) {
			cols = append(cols, g.columnDef())
		}
		return "CREATE TABLE " + g.pick("", "IF NOT EXISTS ") + g.table() + " (" + strings.Join(cols, ", ") + ")"
	case 2:
		return "DROP TABLE " + g.pick("", "IF EXISTS ") + g.table() + g.pick("", " CASCADE", " RESTRICT")
	case 3:
		return "CREATE " + g.pick("", "OR REPLACE ") + "VIEW " + g.view() + " AS SELECT " +
			g.pick("*", g.col(), "id, "+g.col(), "count(*) AS n", g.col()+" || 'z' AS z") + " FROM " + g.rel() +
			g.pick("", " WHERE id > 1", " JOIN "+g.table()+" USING (id)")
	case 4:
		return "DROP VIEW " + g.pick("", "IF EXISTS ") + g.view() + g.pick("", " CASCADE")
	case 5:
		return "CREATE " + g.pick("", "UNIQUE ") + "INDEX " + g.pick("", "IF NOT EXISTS ") + "i" + g.n(4) + " ON " + g.table() +
			" (" + g.pick(g.col(), g.col()+", id", "lower("+g.col()+"::text)", "("+g.col()+" IS NULL)", g.col()+" DESC") + ")" +
			g.pick("", " WHERE "+g.col()+" IS NOT NULL")
	case 6:
		return "DROP INDEX " + g.pick("", "IF EXISTS ") + "i" + g.n(4)
	case 7, 8, 9:
		return "ALTER TABLE " + g.pick("", "IF EXISTS ", "ONLY ") + g.table() + " " + g.alterAction()
	case 10:
		return "ALTER TABLE " + g.table() + " " + g.combinableAction() + ", " + g.combinableAction()
	case 11:
		return g.pick("CREATE SEQUENCE IF NOT EXISTS s"+g.n(2)+g.pick("", " START 10", " INCREMENT 5 MAXVALUE 30 CYCLE"),
			"DROP SEQUENCE IF EXISTS s"+g.n(2)+g.pick("", " CASCADE"),
			"ALTER SEQUENCE s"+g.n(2)+" RESTART WITH "+g.n(50),
			"ALTER SEQUENCE s"+g.n(2)+" OWNED BY "+g.table()+"."+g.col(),
			"SELECT nextval('s"+g.n(2)+"')", "SELECT setval('s"+g.n(2)+"', "+g.n(100)+")")
	case 12:
		return "ALTER TABLE " + g.table() + " RENAME TO " + g.table()
	case 13:
		return "ALTER TABLE " + g.table() + " RENAME COLUMN " + g.col() + " TO " + g.col()
	case 14, 15, 16:
		return "INSERT INTO " + g.rel() + " VALUES (" + g.n(30) + g.pick("", ", "+g.literal(), ", "+g.literal()+", "+g.literal()) + ")" +
			g.pick("", " ON CONFLICT DO NOTHING")
	case 17:
		return "INSERT INTO " + g.table() + " (" + g.col() + ") VALUES (" + g.literal() + ")"
	case 18:
		return "UPDATE " + g.rel() + " SET " + g.col() + " = " + g.literal() + " WHERE id % 3 = " + g.n(3)
	case 19:
		return "DELETE FROM " + g.rel() + " WHERE id < " + g.n(20)
	case 20:
		return "SELECT * FROM " + g.rel() + g.pick("", " ORDER BY 1", " LIMIT 2")
	case 21:
		// A transaction with DDL in it, sometimes failing halfway, ended
		// either way.
		stmts := []string{"BEGIN"}
		for range 1 + g.rng.IntN(4) {
			stmts = append(stmts, g.statement())
		}
		return strings.Join(append(stmts, g.pick("COMMIT", "ROLLBACK", "COMMIT")), "; ")
	case 22:
		return g.pick("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT sp", "ROLLBACK TO SAVEPOINT sp", "RELEASE SAVEPOINT sp")
	default:
		return "TRUNCATE " + g.table() + g.pick("", " CASCADE", " RESTART IDENTITY")
	}
}

// combinableAction is an ALTER TABLE action that may share its statement
// with others (RENAME and SET SCHEMA may not).
func (g *ddlGen) combinableAction() string {
	for {
		a := g.alterAction()
		if !strings.HasPrefix(a, "RENAME") && a != "SET SCHEMA public" {
			return a
		}
	}
}

func (g *ddlGen) alterAction() string {
	col := g.col()
	switch g.rng.IntN(16) {
	case 0, 1:
		return "ADD COLUMN " + g.pick("", "IF NOT EXISTS ") + g.columnDef()
	case 2:
		return "DROP COLUMN " + g.pick("", "IF EXISTS ") + col + g.pick("", " CASCADE")
	case 3:
		return "ALTER COLUMN " + col + " TYPE " + g.typ() + g.pick("", " USING "+col+"::text::"+g.typ())
	case 4:
		return "ALTER COLUMN " + col + g.pick(" SET DEFAULT "+g.literal(), " DROP DEFAULT", " SET DEFAULT nextval('s"+g.n(2)+"')")
	case 5:
		return "ALTER COLUMN " + col + g.pick(" SET NOT NULL", " DROP NOT NULL")
	case 6:
		return "ADD CONSTRAINT k" + g.n(3) + " UNIQUE (" + col + ")"
	case 7:
		return "ADD CONSTRAINT k" + g.n(3) + " CHECK (" + col + " IS NOT NULL" + g.pick("", " OR id > 0") + ")"
	case 8:
		return "ADD CONSTRAINT k" + g.n(3) + " FOREIGN KEY (" + col + ") REFERENCES " + g.table() +
			g.pick("", " (id)", " ON DELETE CASCADE", " DEFERRABLE INITIALLY DEFERRED")
	case 9:
		return "ADD " + g.pick("CONSTRAINT k"+g.n(3)+" ", "") + "PRIMARY KEY (" + g.pick("id", col) + ")"
	case 10:
		return "DROP CONSTRAINT " + g.pick("", "IF EXISTS ") + g.pick("k"+g.n(3), g.table()+"_pkey", g.table()+"_"+col+"_key") + g.pick("", " CASCADE")
	case 11:
		return "RENAME CONSTRAINT k" + g.n(3) + " TO k" + g.n(3)
	case 12:
		return g.pick("OWNER TO postgres", "SET SCHEMA public", "SET (fillfactor = 90)", "RESET (fillfactor)")
	case 13:
		return "RENAME COLUMN " + col + " TO " + g.col()
	default:
		return "ALTER COLUMN " + col + " TYPE " + g.pick("text", "bigint", "varchar(5)")
	}
}
