package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// TestSimpleQueryStatementsSeeEarlierSchemaChanges: in one query string,
// a statement after a schema change sees the change, as in PostgreSQL
// (which analyses each statement when the ones before it have run).
// golang-migrate sends a whole migration file so; its second statement
// used to be translated against the schema before the first had run.
func TestSimpleQueryStatementsSeeEarlierSchemaChanges(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	ctx := context.Background()
	_, err := c.Exec(ctx, `CREATE TABLE gm (id int PRIMARY KEY);
		ALTER TABLE gm ADD COLUMN name varchar(100);
		ALTER TABLE gm ALTER COLUMN name SET DEFAULT 'anonymous';
		INSERT INTO gm (id) VALUES (1);
		CREATE INDEX gm_name ON gm (name);
		INSERT INTO gm (id, name) SELECT id + 1, upper(name) FROM gm`, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	got := queryStrings(t, c, "SELECT name FROM gm ORDER BY id")
	if len(got) != 2 || got[0] != "anonymous" || got[1] != "ANONYMOUS" {
		t.Fatalf("rows = %q", got)
	}
	// An error in a later statement stops the string there, and the
	// implicit transaction takes the earlier ones back.
	_, err = c.Exec(ctx, `ALTER TABLE gm ADD COLUMN extra int; INSERT INTO gm (id, nosuch) VALUES (9, 1)`, pgx.QueryExecModeSimpleProtocol)
	wantCode(t, err, "42703")
	if n := count(t, c, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'gm' AND column_name = 'extra'"); n != 0 {
		t.Fatal("the failed string's ALTER TABLE stayed")
	}
}

// TestMixedDefaultsInMultiRowValues: DEFAULT in some rows of a multi-row
// VALUES (knex writes them) takes the column's default in those rows —
// nextval of a serial key included — as in PostgreSQL.
func TestMixedDefaultsInMultiRowValues(t *testing.T) {
	n := servertest.Start(t)
	c := connect(t, n)
	mustExec(t, c, "CREATE TABLE kd (id serial PRIMARY KEY, likes int NOT NULL DEFAULT 5, title text, n int)")
	mustExec(t, c, "INSERT INTO kd (likes, title, n) VALUES (DEFAULT, 'a', 1), (3, 'b', DEFAULT), (DEFAULT, DEFAULT, 7)")
	mustExec(t, c, "INSERT INTO kd (id, title) VALUES (DEFAULT, 'c'), (100, 'd')")
	got := queryStrings(t, c, "SELECT concat_ws('|', id, likes, coalesce(title, '-'), coalesce(n::text, '-')) FROM kd ORDER BY id")
	want := []string{"1|5|a|1", "2|3|b|-", "3|5|-|7", "4|5|c|-", "100|5|d|-"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rows = %q, want %q", got, want)
	}
}
