package server_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// checkCatalogSeesOwnDDL runs what Django's and Alembic's first migration
// does: CREATE TABLE inside a transaction, then list the tables through
// pg_catalog and information_schema before COMMIT. PostgreSQL answers from
// the transaction's own schema; so must pgraft, on the leader and through a
// follower (which forwards the block). A query with no rows still gets its
// columns (RowDescription).
func checkCatalogSeesOwnDDL(t *testing.T, c *pgx.Conn, table string) {
	t.Helper()
	ctx := context.Background()
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "CREATE TABLE "+table+" (id serial PRIMARY KEY, name varchar(100) NOT NULL)")
	var relname, relkind string
	err := c.QueryRow(ctx, `SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'v') AND n.nspname = 'public' AND c.relname = $1`, table).Scan(&relname, &relkind)
	if err != nil || relname != table || relkind != "r" {
		t.Fatalf("pg_class in the transaction: %q %q %v", relname, relkind, err)
	}
	cols := queryStrings(t, c, `SELECT column_name FROM information_schema.columns WHERE table_name = '`+table+`' ORDER BY ordinal_position`)
	if len(cols) != 2 || cols[0] != "id" || cols[1] != "name" {
		t.Fatalf("information_schema.columns in the transaction: %v", cols)
	}
	var def string
	if err := c.QueryRow(ctx, `SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = $1::regclass`, table).Scan(&def); err != nil ||
		def != "CREATE UNIQUE INDEX "+table+"_pkey ON public."+table+" USING btree (id)" {
		t.Fatalf("pg_get_indexdef in the transaction: %q %v", def, err)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		rows, err := c.Query(ctx, `SELECT relname, relkind FROM pg_class WHERE relname = 'no_such_table'`, mode)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil || n != 0 || len(rows.FieldDescriptions()) != 2 {
			t.Fatalf("zero-row catalog query (mode %v): %d rows, %d columns, %v", mode, n, len(rows.FieldDescriptions()), err)
		}
	}
	// A write still may not read the catalog: what it says is not in the log.
	_, err = c.Exec(ctx, "INSERT INTO "+table+" (name) SELECT relname FROM pg_class")
	wantCode(t, err, "0A000")
	mustExec(t, c, "ROLLBACK")

	// Rolled back: gone from the catalog, as from everything else.
	if n := count(t, c, "SELECT count(*) FROM pg_class WHERE relname = '"+table+"'"); n != 0 {
		t.Fatalf("a rolled-back table is in pg_class: %d", n)
	}
	mustExec(t, c, "BEGIN")
	mustExec(t, c, "CREATE TABLE "+table+" (id int)")
	if n := count(t, c, "SELECT count(*) FROM information_schema.tables WHERE table_name = '"+table+"'"); n != 1 {
		t.Fatalf("information_schema.tables in the second transaction: %d", n)
	}
	mustExec(t, c, "COMMIT")
	if n := count(t, c, "SELECT count(*) FROM pg_class WHERE relname = '"+table+"'"); n != 1 {
		t.Fatalf("committed table in pg_class: %d", n)
	}
}

func TestCatalogSeesTransactionsOwnDDL(t *testing.T) {
	n := servertest.Start(t)
	checkCatalogSeesOwnDDL(t, connect(t, n), "django_migrations")
}

func TestClusterCatalogSeesTransactionsOwnDDL(t *testing.T) {
	skipShortCluster(t)
	c := servertest.NewCluster(t, 3)
	checkCatalogSeesOwnDDL(t, connect(t, c.Leader()), "on_leader")
	checkCatalogSeesOwnDDL(t, connect(t, c.Followers()[0]), "via_follower")
	c.RequireConverged()
}
